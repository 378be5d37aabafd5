/**
 * Puts a Service (and the workload scale mode shrank) back the way it was before a ktx session
 * changed it, and deletes that session's objects, once the session is gone (after a `kill -9`, a
 * lost laptop). While the owning session is alive it refuses, naming the owner, unless forced;
 * forcing first deletes the owner's Lease, which ends that session. Used by the `recover` verb,
 * by `clean`, and by a verb taking over a Service a dead session left.
 * A preview's Service is ktx's own, not a changed one: recovering it deletes it with the
 * session's other objects (the same rules: refused while the session lives, unless forced).
 */
import { EXCHANGE_LABEL } from '../../contract.js'
import { ConflictError, type ResourceRef, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { deleteIgnoringMissing } from '../../kube/lease.js'
import { describeLastAlive } from '../../kube/liveness.js'
import {
  type WorkloadRef,
  readLock,
  readOriginalReplicas,
  readOriginalSelector,
} from '../../kube/redirect-state.js'
import { originOf } from '../../kube/preview-service.js'
import { pointsAtKtx, restoreService } from '../../kube/service-lock.js'
import { readService } from '../../kube/service.js'
import { describeRestore, restoreWorkload } from '../../kube/workload-lock.js'
import { describeWorkload, listWorkloads, readWorkload, waitWorkloadReady } from '../../kube/workload.js'
import type { Logger } from '../../logger.js'
import { reapMeshGroup } from './mesh-group.js'
import { type SessionStatus, deleteSessionObjects, sessionStatus } from '../../kube/sessions.js'

/** What {@link recoverService} did. */
export interface RecoverReport {
  readonly service: string
  readonly namespace: string
  /** `clean`: nothing of ktx was on the Service. */
  readonly state: 'recovered' | 'clean'
  /** The sessions whose changes were undone. */
  readonly sessions: readonly SessionStatus[]
  /** The selector put back, when ktx had switched it. */
  readonly selector: Readonly<Record<string, string>> | undefined
  /** Workloads scaled back, with the replica count restored. */
  readonly workloads: readonly { readonly ref: WorkloadRef; readonly replicas: number | undefined }[]
  readonly deleted: readonly ResourceRef[]
  /** Things ktx could not fix, for the user to look at. */
  readonly warnings: readonly string[]
}

/** Options of {@link recoverService}. */
export interface RecoverServiceOptions {
  /** Recover even while the owning session is alive (its Lease is deleted first, which ends it). */
  readonly force: boolean
  /** Wait this long for a scaled-back workload to be Ready; 0 skips the wait. */
  readonly waitMs: number
  readonly logger: Logger
  readonly signal?: AbortSignal
}

/**
 * Recovers one Service in `kube.namespace`.
 * @throws ConflictError `KTX_SESSION_ALIVE` naming the owner and when it was last alive (unless
 *   `force`), KubeApiError `KTX_SERVICE_NOT_FOUND`, or API errors.
 */
export async function recoverService(
  kube: Kube,
  name: string,
  options: RecoverServiceOptions,
): Promise<RecoverReport> {
  const { signal, logger: log } = options
  const namespace = kube.namespace
  const origin = originOf(await readService(kube, name, signal))
  if (origin.kind === 'preview') return removePreview(kube, name, origin, options)
  const meshed = await reapMeshGroup(kube, name, {
    force: options.force,
    logger: log,
    ...(signal ? { signal } : {}),
  })
  if (meshed.state === 'live') throw meshStillAlive(name, meshed.liveOwners)
  const traces = await findTraces(kube, name, signal)
  if (traces.owners.size === 0 && traces.lock.state === 'absent' && traces.original.state === 'absent') {
    return { ...nothingDone(name, namespace), state: meshed.state === 'restored' ? 'recovered' : 'clean' }
  }

  const sessions = await Promise.all(
    [...traces.owners].map(([id, o]) =>
      sessionStatus(kube, id, { owner: o.owner, lease: o.lease, ...(signal ? { signal } : {}) }),
    ),
  )
  const alive = sessions.filter((s) => s.liveness.alive)
  if (alive.length > 0 && !options.force) throw stillAlive(name, alive)
  await endSessions(kube, alive, log, signal)

  // Every write below is scoped to the sessions judged here: one that took the Service (or the
  // workload) after the read above is alive, and its lock is left alone.
  const judged = sessions.map((s) => s.id)
  const warnings = await restoreSelector(kube, name, { lock: traces.lock, judged }, signal)
  const scaled = await scaleBack(
    kube,
    traces.workloads.values(),
    { judged, waitMs: options.waitMs, warnings },
    signal,
  )
  const deleted: ResourceRef[] = []
  for (const session of sessions) deleted.push(...(await deleteSessionObjects(kube, session.id, signal)))
  log.info('Service recovered', { service: name, sessions: sessions.map((s) => s.id) })
  return {
    ...nothingDone(name, namespace),
    state: 'recovered',
    sessions,
    selector: traces.original.state === 'valid' ? traces.original.value.selector : undefined,
    workloads: scaled,
    deleted,
    warnings,
  }
}

function nothingDone(service: string, namespace: string): Omit<RecoverReport, 'state'> {
  return { service, namespace, sessions: [], selector: undefined, workloads: [], deleted: [], warnings: [] }
}

type Lock = ReturnType<typeof readLock>

/** What sessions left on a Service and its workloads. */
interface Traces {
  readonly lock: Lock
  readonly original: ReturnType<typeof readOriginalSelector>
  /** Session id → what the lock says of it (the other records name only the id). */
  readonly owners: ReadonlyMap<string, { readonly owner?: string; readonly lease?: string }>
  /** Workloads scale mode shrank for this Service, by description. */
  readonly workloads: ReadonlyMap<string, WorkloadRef>
}

// The records, the shadow a switched selector points at, and workloads whose saved replicas name
// this Service.
async function findTraces(kube: Kube, name: string, signal: AbortSignal | undefined): Promise<Traces> {
  const service = await readService(kube, name, signal)
  const annotations = service.metadata?.annotations
  const lock = readLock(annotations)
  const original = readOriginalSelector(annotations)
  const owners = new Map<string, { owner?: string; lease?: string }>()
  if (lock.state === 'valid')
    owners.set(lock.value.session, { owner: lock.value.owner, lease: lock.value.lease })
  if (original.state === 'valid' && !owners.has(original.value.session))
    owners.set(original.value.session, {})
  const pointed = service.spec?.selector?.[EXCHANGE_LABEL]
  if (pointed !== undefined && !owners.has(pointed)) owners.set(pointed, {})
  const workloads = new Map<string, WorkloadRef>()
  if (lock.state === 'valid' && lock.value.workload) {
    workloads.set(describeWorkload(lock.value.workload), lock.value.workload)
  }
  for (const workload of await listWorkloads(kube, signal)) {
    const replicas = readOriginalReplicas(workload.annotations)
    if (replicas.state !== 'valid' || replicas.value.service !== name) continue
    workloads.set(describeWorkload(workload.ref), workload.ref)
    if (!owners.has(replicas.value.session)) owners.set(replicas.value.session, {})
  }
  return { lock, original, owners, workloads }
}

// Deleting a live session's Lease ends it: its pods go with the Lease, its tunnel drops and it stops.
async function endSessions(
  kube: Kube,
  alive: readonly SessionStatus[],
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<void> {
  const namespace = kube.namespace
  for (const session of alive) {
    log.warn('Forcing recovery: deleting the Lease of a live session', { session: session.id })
    await deleteIgnoringMissing(() =>
      kube.call(
        { verb: 'delete', resource: 'leases', namespace, name: session.lease },
        (o) => kube.coordination.deleteNamespacedLease({ name: session.lease, namespace }, o),
        signal,
      ),
    )
  }
}

// Puts the saved selector back and drops the judged sessions' records; returns what the user must
// still look at.
async function restoreSelector(
  kube: Kube,
  name: string,
  state: { readonly lock: Lock; readonly judged: readonly string[] },
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const warnings: string[] = []
  if (state.lock.state === 'corrupt')
    warnings.push(`The ${name} lock annotation was unreadable; it was removed.`)
  const outcome = await restoreService(kube, name, { sessions: state.judged, release: true }, signal)
  if (outcome === 'other-owner') {
    warnings.push(
      takenMeanwhile(`Service ${name}`, (await readService(kube, name, signal)).metadata?.annotations),
    )
    return warnings
  }
  const after = await readService(kube, name, signal)
  if (pointsAtKtx(after.spec?.selector) && readLock(after.metadata?.annotations).state === 'absent') {
    warnings.push(
      `Service ${name} still selects ktx pods and its original selector is unknown; set it again: kubectl edit service -n ${kube.namespace} ${name}`,
    )
  }
  return warnings
}

// Scales each workload back (if a judged session shrank it) and waits up to `waitMs` for it; one
// not Ready in time, or taken by another session meanwhile, is a warning.
async function scaleBack(
  kube: Kube,
  workloads: Iterable<WorkloadRef>,
  state: { readonly judged: readonly string[]; readonly waitMs: number; readonly warnings: string[] },
  signal: AbortSignal | undefined,
): Promise<{ ref: WorkloadRef; replicas: number | undefined }[]> {
  const { judged, waitMs, warnings } = state
  const scaled: { ref: WorkloadRef; replicas: number | undefined }[] = []
  for (const ref of workloads) {
    const restored = await restoreWorkload(kube, ref, { sessions: judged, release: true }, signal)
    if (restored.outcome === 'other-owner') {
      const workload = await readWorkload(kube, ref, signal)
      warnings.push(takenMeanwhile(describeWorkload(ref), workload.annotations))
      continue
    }
    warnings.push(...describeRestore(describeWorkload(ref), restored))
    scaled.push({ ref, replicas: restored.replicas })
    if (restored.replicas === undefined || waitMs <= 0) continue
    try {
      await waitWorkloadReady(kube, ref, {
        replicas: restored.replicas,
        timeoutMs: waitMs,
        ...(signal ? { signal } : {}),
      })
    } catch (error) {
      if (signal?.aborted) throw error
      warnings.push(
        `${describeWorkload(ref)} was scaled back to ${restored.replicas} but is not Ready yet: ${messageOf(error)}`,
      )
    }
  }
  return scaled
}

// A session took the object over between recover's read and its write: it is alive, hands off.
function takenMeanwhile(what: string, annotations: Readonly<Record<string, string>> | undefined): string {
  const lock = readLock(annotations)
  const who =
    lock.state === 'valid' ? `session ${lock.value.session} (${lock.value.owner})` : 'another session'
  return `${who} took ${what} over while recover ran; it was left to that session.`
}

function meshStillAlive(service: string, leases: readonly string[]): ConflictError {
  return new ConflictError(
    `Service "${service}" is meshed by sessions that are still running (${leases.join(', ')})`,
    {
      code: 'KTX_SESSION_ALIVE',
      suggestions: [
        'Each of them puts the Service back when it ends (Ctrl+C); the last one out restores it.',
        'If their machines are gone, wait until their leases lapse, or take the Service back now with --force.',
      ],
      data: { leases },
    },
  )
}

// A preview Service goes with its session: its pod, its Lease and the Service itself.
async function removePreview(
  kube: Kube,
  name: string,
  origin: { readonly session: string; readonly owner: string | undefined },
  options: RecoverServiceOptions,
): Promise<RecoverReport> {
  const { signal, logger: log } = options
  const namespace = kube.namespace
  const session = await sessionStatus(kube, origin.session, {
    owner: origin.owner,
    ...(signal ? { signal } : {}),
  })
  if (session.liveness.alive) {
    if (!options.force) throw stillAlive(name, [session])
    log.warn('Forcing recovery: deleting the Lease of a live session', { session: session.id })
  }
  // The session's objects include the Service (it carries the session's labels).
  const deleted = await deleteSessionObjects(kube, session.id, signal)
  log.info('Preview Service removed', { service: name, session: session.id })
  return {
    service: name,
    namespace,
    state: 'recovered',
    sessions: [session],
    selector: undefined,
    workloads: [],
    deleted,
    warnings: [],
  }
}

function stillAlive(service: string, alive: readonly SessionStatus[]): ConflictError {
  const who = alive
    .map((s) => `${s.owner ?? 'an unknown owner'} (session ${s.id}, ${describeLastAlive(s.liveness)})`)
    .join('; ')
  return new ConflictError(`Service "${service}" is held by a session that is still running: ${who}`, {
    code: 'KTX_SESSION_ALIVE',
    suggestions: [
      'Stop that session (Ctrl+C in its terminal); it puts the Service back itself.',
      'If its machine is gone, wait until its lease lapses, or take the Service back now with --force.',
    ],
    data: {
      sessions: alive.map((s) => ({
        id: s.id,
        owner: s.owner,
        lastAlive: s.liveness.lastAlive?.toISOString(),
      })),
    },
  })
}
