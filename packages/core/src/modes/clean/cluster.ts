/**
 * `cleanCluster()`: the cluster half of `ktx clean`. In one namespace it finds the sessions that
 * are gone (Lease deleted or lapsed, judged by the API server's clock), puts back the Services and
 * workloads they had changed, and deletes their objects (a preview's Service among them). Live
 * sessions are never touched.
 */
import { EXCHANGE_LABEL, LABELS, MANAGED_SELECTOR } from '../../contract.js'
import { type ResourceRef, messageOf } from '../../errors.js'
import { type Kube, createKube, isKube } from '../../kube/client.js'
import type { KubeOptions } from '../../kube/kubeconfig.js'
import { judge } from '../../kube/liveness.js'
import { originOf } from '../../kube/preview-service.js'
import {
  readLock,
  readMeshRecord,
  readOriginalReplicas,
  readOriginalSelector,
} from '../../kube/redirect-state.js'
import { listServices } from '../../kube/service.js'
import { listWorkloads } from '../../kube/workload.js'
import { type Logger, noopLogger } from '../../logger.js'
import { DEFAULTS } from '../../options.js'
import { reapMeshGroup } from '../shared/mesh-group.js'
import { recoverService } from '../shared/recover-service.js'
import { deleteSessionObjects, sessionStatus } from '../../kube/sessions.js'

/** Options of {@link cleanCluster}. */
export interface CleanClusterOptions {
  readonly kube?: KubeOptions | Kube
  /** Only report what would be done. Default false. */
  readonly dryRun?: boolean
  /** How long to wait for each scaled-back workload to be Ready. Default 120 000; 0 skips. */
  readonly waitMs?: number
  readonly requestTimeoutMs?: number
  readonly logger?: Logger
  readonly signal?: AbortSignal
}

/** What {@link cleanCluster} found and did (or, in a dry run, would do). */
export interface CleanClusterReport {
  readonly namespace: string
  readonly dryRun: boolean
  /** Sessions that are gone; their changes were undone and their objects deleted. */
  readonly deadSessions: readonly string[]
  /** Sessions still alive; left alone. */
  readonly liveSessions: readonly string[]
  /** Services put back (selector, and any workload scale mode had shrunk). */
  readonly restoredServices: readonly string[]
  readonly deleted: readonly ResourceRef[]
  /** Problems that need a look (a Service that could not be restored, …). */
  readonly warnings: readonly string[]
}

/**
 * Reaps what dead sessions left in `kube.namespace`.
 * @throws ConfigError / PermissionError / TunnelError from listing; per-Service failures become
 *   warnings so one bad object does not stop the rest.
 */
export async function cleanCluster(options: CleanClusterOptions = {}): Promise<CleanClusterReport> {
  const kube = isKube(options.kube)
    ? options.kube
    : createKube({
        ...options.kube,
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.timeouts.kubeRequestMs,
      })
  const { signal } = options
  const log = options.logger ?? noopLogger
  const dryRun = options.dryRun ?? false
  const namespace = kube.namespace

  const listed = await judgeSessions(kube, signal)
  const sessions = new Set([...listed.keys(), ...(await sessionsWithPods(kube, signal))])
  const warnings: string[] = []
  const candidates = await servicesToRecover(
    kube,
    { isAlive: (session) => listed.get(session) ?? false, sessions, warnings },
    signal,
  )
  // The Lease list above is a snapshot: a session that started since is missing from it although
  // it is alive. Each session is judged again by its own Lease right before anything of it is
  // touched.
  const liveness = new Recheck(kube, listed, signal)

  const restoredServices: string[] = []
  const deleted: ResourceRef[] = []
  // Before the dead sessions' Leases go: a router whose owners are all dead would be collected
  // with them and leave its Service pointing at nothing.
  for (const service of await meshedServices(kube, signal)) {
    try {
      const reaped = await reapMeshGroup(kube, service, {
        force: false,
        dryRun,
        logger: log,
        ...(signal ? { signal } : {}),
      })
      if (reaped.state === 'restored') restoredServices.push(service)
    } catch (error) {
      if (signal?.aborted) throw error
      warnings.push(`Meshed Service ${service} was not restored: ${messageOf(error)}`)
    }
  }
  if (dryRun) {
    for (const [service, involved] of candidates) {
      if (await liveness.allDead(involved)) restoredServices.push(service)
    }
    for (const session of sessions) await liveness.allDead([session])
  } else {
    for (const [service, involved] of candidates) {
      if (!(await liveness.allDead(involved))) continue
      try {
        const report = await recoverService(kube, service, {
          force: false,
          waitMs: options.waitMs ?? 120_000,
          logger: log,
          ...(signal ? { signal } : {}),
        })
        restoredServices.push(service)
        warnings.push(...report.warnings)
        deleted.push(...report.deleted)
      } catch (error) {
        if (signal?.aborted) throw error
        warnings.push(`Service ${service} was not restored: ${messageOf(error)}`)
      }
    }
    for (const session of [...sessions].sort()) {
      if (await liveness.allDead([session]))
        deleted.push(...(await deleteSessionObjects(kube, session, signal)))
    }
  }
  const dead = [...sessions].filter((s) => !liveness.isAlive(s)).sort()
  const live = [...sessions].filter((s) => liveness.isAlive(s)).sort()
  log.info('Cluster clean done', { namespace, dead, live, restoredServices })
  return {
    namespace,
    dryRun,
    deadSessions: dead,
    liveSessions: live,
    restoredServices,
    deleted: dedupe(deleted),
    warnings,
  }
}

// Services a mesh router holds (their record names no session: the router's owners tell).
async function meshedServices(kube: Kube, signal: AbortSignal | undefined): Promise<string[]> {
  return (await listServices(kube, signal))
    .filter((s) => readMeshRecord(s.metadata?.annotations).state === 'valid')
    .map((s) => s.metadata?.name ?? '')
}

// Session id → alive, from the sessions' Leases judged against the server's clock (the list
// response's Date), not this machine's.
async function judgeSessions(kube: Kube, signal: AbortSignal | undefined): Promise<Map<string, boolean>> {
  const namespace = kube.namespace
  const leases = await kube.call(
    { verb: 'list', resource: 'leases', namespace },
    (o) =>
      kube.coordination.listNamespacedLeaseWithHttpInfo({ namespace, labelSelector: MANAGED_SELECTOR }, o),
    signal,
  )
  const now = serverNow(leases.headers.date)
  const alive = new Map<string, boolean>()
  for (const lease of leases.data.items) {
    const session = lease.metadata?.labels?.[LABELS.session]
    if (session !== undefined) alive.set(session, judge(lease, now).alive)
  }
  return alive
}

async function sessionsWithPods(kube: Kube, signal: AbortSignal | undefined): Promise<string[]> {
  const namespace = kube.namespace
  const pods = await kube.call(
    { verb: 'list', resource: 'pods', namespace },
    (o) => kube.core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR }, o),
    signal,
  )
  return pods.items.flatMap((pod) => {
    const session = pod.metadata?.labels?.[LABELS.session]
    return session === undefined ? [] : [session]
  })
}

// The Services whose every changing session looked dead in the Lease list (from their records,
// and from the saved replicas of workloads scale mode shrank), each with those sessions. Adds the
// sessions met to `found.sessions`; an unreadable record is a warning and the Service is left alone.
async function servicesToRecover(
  kube: Kube,
  found: { readonly isAlive: (session: string) => boolean; sessions: Set<string>; warnings: string[] },
  signal: AbortSignal | undefined,
): Promise<Map<string, string[]>> {
  const { isAlive, sessions, warnings } = found
  const toRecover = new Map<string, string[]>()
  for (const service of await listServices(kube, signal)) {
    const name = service.metadata?.name ?? ''
    // A preview's own Service goes with its session's objects (deleted below), not recovered.
    const origin = originOf(service)
    if (origin.kind === 'preview') {
      sessions.add(origin.session)
      continue
    }
    const involved = sessionsOn(service.metadata?.annotations, service.spec?.selector)
    if (involved.corrupt) {
      warnings.push(
        `Service ${name} has an unreadable ktx record; check it, then run \`ktx recover ${name}\`.`,
      )
      continue
    }
    involved.sessions.forEach((s) => sessions.add(s))
    if (involved.sessions.length > 0 && involved.sessions.every((s) => !isAlive(s))) {
      toRecover.set(name, involved.sessions)
    }
  }
  for (const workload of await listWorkloads(kube, signal)) {
    const replicas = readOriginalReplicas(workload.annotations)
    if (replicas.state !== 'valid') continue
    sessions.add(replicas.value.session)
    const { service, session } = replicas.value
    if (isAlive(session)) continue
    toRecover.set(service, [...new Set([...(toRecover.get(service) ?? []), session])])
  }
  return toRecover
}

// The sessions a Service's records and selector name; `corrupt` when a record cannot be read.
function sessionsOn(
  annotations: Readonly<Record<string, string>> | undefined,
  selector: Readonly<Record<string, string>> | undefined,
): { sessions: string[]; corrupt: boolean } {
  const lock = readLock(annotations)
  const original = readOriginalSelector(annotations)
  const sessions = new Set<string>()
  if (lock.state === 'valid') sessions.add(lock.value.session)
  if (original.state === 'valid') sessions.add(original.value.session)
  const pointed = selector?.[EXCHANGE_LABEL]
  if (pointed !== undefined) sessions.add(pointed)
  return { sessions: [...sessions], corrupt: lock.state === 'corrupt' || original.state === 'corrupt' }
}

/**
 * Liveness judged again, one Lease read per question, right before clean acts on a session. A
 * session once seen alive (in the list or since) stays alive for this run; a dead verdict is never
 * reused, so each action rests on a read made just before it.
 */
class Recheck {
  readonly #alive = new Set<string>()

  constructor(
    private readonly kube: Kube,
    listed: ReadonlyMap<string, boolean>,
    private readonly signal: AbortSignal | undefined,
  ) {
    for (const [session, alive] of listed) if (alive) this.#alive.add(session)
  }

  isAlive(session: string): boolean {
    return this.#alive.has(session)
  }

  /** True when every one of `sessions` is dead now (by its Lease, read now). */
  async allDead(sessions: readonly string[]): Promise<boolean> {
    if (sessions.some((s) => this.#alive.has(s))) return false
    for (const session of sessions) {
      const status = await sessionStatus(this.kube, session, this.signal ? { signal: this.signal } : {})
      if (status.liveness.alive) {
        this.#alive.add(session)
        return false
      }
    }
    return true
  }
}

function dedupe(refs: readonly ResourceRef[]): ResourceRef[] {
  const seen = new Set<string>()
  return refs.filter((r) => {
    const key = `${r.kind}/${r.namespace ?? ''}/${r.name}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function serverNow(header: string | undefined): Date {
  const parsed = header === undefined ? Number.NaN : Date.parse(header)
  return Number.isNaN(parsed) ? new Date() : new Date(parsed)
}
