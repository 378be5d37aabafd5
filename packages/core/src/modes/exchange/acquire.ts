/**
 * Takes the Service (and, in scale mode, the workload) for a session: resolve → plan ports → lock.
 * A lock left by a dead session is recovered first (its Service put back, its objects deleted) and
 * the whole resolution runs again on the restored objects; a live holder is a clear conflict that
 * names it. Each lock's release is deferred the moment it is taken.
 */
import { recoverService } from '../shared/recover-service.js'
import { deleteSessionObjects } from '../../kube/sessions.js'
import { ConflictError } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import type { SessionLease } from '../../kube/lease.js'
import { describeLastAlive } from '../../kube/liveness.js'
import type { LockRecord, WorkloadRef } from '../../kube/redirect-state.js'
import { type LockAttempt, restoreService, takeServiceLock } from '../../kube/service-lock.js'
import { restoreWorkload, takeWorkloadLock } from '../../kube/workload-lock.js'
import { describeWorkload } from '../../kube/workload.js'
import type { SetupContext } from '../shared/setup.js'
import type { ResolvedExchangeOptions } from './options.js'
import { type ExposePlan, planExpose, targetPortsOf } from '../shared/target-ports.js'
import { type ResolvedTarget, resolveTarget } from './target.js'

/** The resolved target with its port plan. */
export interface Planned {
  readonly target: ResolvedTarget
  readonly plan: ExposePlan
}

/** Resolves the target and checks `--expose` against it; makes no change. */
export async function planTarget(
  kube: Kube,
  opts: ResolvedExchangeOptions,
  signal: AbortSignal,
): Promise<Planned> {
  const target = await resolveTarget(kube, opts.target, opts.mode, signal)
  const plan = planExpose(target.serviceName, opts.expose, targetPortsOf(target.service, target.podSpec))
  return { target, plan }
}

// A dead holder is recovered and the lock tried again; more rounds mean others keep racing us.
const TAKEOVER_ROUNDS = 3

/**
 * Locks the Service and, in scale mode, the workload (recording its replica count).
 * @throws ConflictError `KTX_SERVICE_LOCKED` naming the live holder; errors of the recovery.
 */
export async function acquireTarget(
  ctx: SetupContext,
  kube: Kube,
  opts: ResolvedExchangeOptions,
  lease: SessionLease,
  planned: Planned,
): Promise<Planned> {
  let current = planned
  let serviceLocked = false
  for (let round = 1; ; round++) {
    const record = lockRecordFor(ctx, opts, lease, current.target.workload?.ref)
    const service = current.target.serviceName
    if (!serviceLocked) {
      const attempt = await takeServiceLock(kube, service, record, ctx.signal)
      if (attempt.state !== 'taken') {
        await takeOverService(ctx, kube, service, attempt, round)
        current = await planTarget(kube, opts, ctx.signal)
        continue
      }
      serviceLocked = true
      ctx.stack.defer('release the Service', (signal) =>
        restoreService(kube, service, { sessions: [ctx.id], release: true }, signal).then(() => undefined),
      )
    }
    const workload = current.target.workload
    if (opts.mode !== 'scale' || workload === undefined) return current
    const taken = await takeWorkloadLock(kube, workload.ref, { ...record, service }, ctx.signal)
    if (taken.state === 'taken') {
      ctx.stack.defer(`release ${describeWorkload(workload.ref)}`, (signal) =>
        restoreWorkload(kube, workload.ref, { sessions: [ctx.id], release: true }, signal).then(
          () => undefined,
        ),
      )
      return current
    }
    await takeOverWorkload(ctx, kube, { service, ref: workload.ref }, taken, round)
    current = await planTarget(kube, opts, ctx.signal)
  }
}

// Refuses a live holder of the Service; recovers a dead one (and reports it).
async function takeOverService(
  ctx: SetupContext,
  kube: Kube,
  service: string,
  attempt: Exclude<LockAttempt, { state: 'taken' }>,
  round: number,
): Promise<void> {
  if (attempt.state === 'held')
    throw locked(kube, service, service, attempt.lock, describeLastAlive(attempt.liveness))
  giveUpAfter(service, round)
  const report = await recoverService(kube, service, {
    force: false,
    waitMs: 0,
    logger: ctx.log,
    signal: ctx.signal,
  })
  for (const session of report.sessions) {
    ctx.emit({
      type: 'lock.recovered',
      service,
      session: session.id,
      owner: session.owner ?? 'unknown',
      lastAlive: describeLastAlive(session.liveness),
    })
  }
}

// The same for a workload that a dead session (of another Service) left scaled to 0.
async function takeOverWorkload(
  ctx: SetupContext,
  kube: Kube,
  target: { readonly service: string; readonly ref: WorkloadRef },
  attempt: Exclude<LockAttempt, { state: 'taken' }>,
  round: number,
): Promise<void> {
  const what = describeWorkload(target.ref)
  if (attempt.state === 'held')
    throw locked(kube, what, target.service, attempt.lock, describeLastAlive(attempt.liveness))
  giveUpAfter(what, round)
  const dead = attempt.lock?.session
  await restoreWorkload(
    kube,
    target.ref,
    { sessions: dead === undefined ? [] : [dead], release: true },
    ctx.signal,
  )
  if (dead === undefined) return
  await deleteSessionObjects(kube, dead, ctx.signal)
  ctx.emit({
    type: 'lock.recovered',
    service: what,
    session: dead,
    owner: attempt.lock?.owner ?? 'unknown',
    lastAlive: attempt.liveness ? describeLastAlive(attempt.liveness) : 'unknown',
  })
}

function giveUpAfter(what: string, round: number): void {
  if (round < TAKEOVER_ROUNDS) return
  throw new ConflictError(`${what} keeps changing hands; gave up after ${round} attempts`, {
    code: 'KTX_SERVICE_LOCKED',
    suggestions: ['Someone else is exchanging it at the same time; try again in a moment.'],
  })
}

/** The lock record of this session (what `ktx.dev/lock` holds). */
export function lockRecordFor(
  ctx: SetupContext,
  opts: ResolvedExchangeOptions,
  lease: SessionLease,
  workload: WorkloadRef | undefined,
): LockRecord {
  return {
    session: ctx.id,
    owner: opts.owner,
    lease: lease.name,
    verb: 'exchange',
    mode: opts.mode,
    since: new Date().toISOString(),
    ...(opts.mode === 'scale' && workload ? { workload } : {}),
  }
}

function locked(
  kube: Kube,
  what: string,
  service: string,
  lock: LockRecord,
  lastAlive: string,
): ConflictError {
  const subject = what === service ? `Service "${service}"` : what
  return new ConflictError(
    `${subject} is already exchanged by ${lock.owner} (session ${lock.session}, ${lock.mode} mode), ${lastAlive}`,
    {
      code: 'KTX_SERVICE_LOCKED',
      suggestions: [
        `Ask ${lock.owner} to stop that session; ktx also takes the Service over by itself once that session's lease lapses.`,
        `If that session is gone for good: ktx recover ${service} -n ${kube.namespace} --force`,
      ],
      data: { owner: lock.owner, session: lock.session, mode: lock.mode, since: lock.since },
    },
  )
}
