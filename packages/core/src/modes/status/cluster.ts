/**
 * The cluster half of `ktx status --cluster`: every ktx session in one namespace, from its Lease
 * (owner, host, verb, last renewal, alive or dead by the API server's clock), and what it holds:
 * Services it exchanged (their lock record), meshed (a router pod it co-owns, or its own mesh
 * Service) or previewed (its own preview Service), and its pods. Reads only.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node'

import { ANNOTATIONS, LABELS, MANAGED_BY, MANAGED_SELECTOR, MESH_GROUP_LABEL } from '../../contract.js'
import type { Kube } from '../../kube/client.js'
import { judge } from '../../kube/liveness.js'
import { readLock } from '../../kube/redirect-state.js'
import { listServices } from '../../kube/service.js'

/** A Service a session redirects or made. */
export interface HeldService {
  readonly how: 'exchanged' | 'meshed' | 'previewed'
  readonly service: string
}

/** One session as the cluster records it. */
export interface ClusterSessionStatus {
  readonly id: string
  readonly lease: string
  /** `user@host`. */
  readonly owner: string | undefined
  readonly host: string | undefined
  readonly verb: string | undefined
  /** ISO time of the last renewal. */
  readonly lastRenewal: string | undefined
  readonly alive: boolean
  /** Seconds since the last renewal, by the API server's clock. */
  readonly sinceRenewalSeconds: number | undefined
  readonly holds: readonly HeldService[]
  readonly pods: readonly string[]
}

/** What `clusterStatus` found. */
export interface ClusterStatusReport {
  readonly namespace: string
  /** The API server's clock at the Lease list. */
  readonly now: string
  readonly sessions: readonly ClusterSessionStatus[]
}

/**
 * Lists the sessions of `kube.namespace`, oldest first.
 * @throws PermissionError / TunnelError / ConfigError from the list calls.
 */
export async function listClusterSessions(kube: Kube, signal?: AbortSignal): Promise<ClusterStatusReport> {
  const namespace = kube.namespace
  const leases = await kube.call(
    { verb: 'list', resource: 'leases', namespace },
    (o) =>
      kube.coordination.listNamespacedLeaseWithHttpInfo(
        { namespace, labelSelector: `${MANAGED_SELECTOR},${LABELS.role}=session` },
        o,
      ),
    signal,
  )
  const parsedDate = Date.parse(leases.headers.date ?? '')
  const now = Number.isNaN(parsedDate) ? new Date() : new Date(parsedDate)
  const [services, pods] = await Promise.all([listServices(kube, signal), listManagedPods(kube, signal)])
  const leaseToSession = new Map<string, string>()
  for (const lease of leases.data.items) {
    const id = lease.metadata?.labels?.[LABELS.session]
    if (id !== undefined) leaseToSession.set(lease.metadata?.name ?? '', id)
  }
  const holds = heldServices(services, pods, leaseToSession)
  const sessions = leases.data.items.flatMap((lease): ClusterSessionStatus[] => {
    const id = lease.metadata?.labels?.[LABELS.session]
    if (id === undefined) return []
    const liveness = judge(lease, now)
    const owner = lease.metadata?.annotations?.[ANNOTATIONS.owner] ?? lease.spec?.holderIdentity
    return [
      {
        id,
        lease: lease.metadata?.name ?? '',
        owner,
        host: owner?.includes('@') ? owner.slice(owner.lastIndexOf('@') + 1) : undefined,
        verb: lease.metadata?.annotations?.[ANNOTATIONS.verb],
        lastRenewal: liveness.lastAlive?.toISOString(),
        alive: liveness.alive,
        sinceRenewalSeconds:
          liveness.lastAlive === undefined
            ? undefined
            : Math.max(0, Math.round((now.getTime() - liveness.lastAlive.getTime()) / 1000)),
        holds: holds.get(id) ?? [],
        pods: pods
          .filter((p) => p.metadata?.labels?.[LABELS.session] === id)
          .map((p) => p.metadata?.name ?? '')
          .sort(),
      },
    ]
  })
  sessions.sort(
    (a, b) => (a.lastRenewal ?? '').localeCompare(b.lastRenewal ?? '') || a.id.localeCompare(b.id),
  )
  return { namespace, now: now.toISOString(), sessions }
}

/** Session id → the Services it holds (pure). */
export function heldServices(
  services: readonly V1Service[],
  pods: readonly V1Pod[],
  leaseToSession: ReadonlyMap<string, string>,
): Map<string, HeldService[]> {
  const held = new Map<string, HeldService[]>()
  const add = (session: string, entry: HeldService): void => {
    const list = held.get(session) ?? []
    if (!list.some((e) => e.how === entry.how && e.service === entry.service)) list.push(entry)
    held.set(session, list)
  }
  for (const service of services) {
    const name = service.metadata?.name ?? ''
    const lock = readLock(service.metadata?.annotations)
    if (lock.state === 'valid') add(lock.value.session, { how: 'exchanged', service: name })
    const labels = service.metadata?.labels ?? {}
    const session = labels[LABELS.session]
    if (labels[LABELS.managedBy] !== MANAGED_BY || session === undefined) continue
    if (labels[LABELS.role] === 'preview') add(session, { how: 'previewed', service: name })
    if (labels[LABELS.role] === 'mesh') add(session, { how: 'meshed', service: name })
  }
  // A shared router is co-owned by the Leases of every session meshing its Service.
  for (const pod of pods) {
    const group = pod.metadata?.labels?.[MESH_GROUP_LABEL]
    if (pod.metadata?.labels?.[LABELS.role] !== 'router' || group === undefined) continue
    for (const ref of pod.metadata.ownerReferences ?? []) {
      const session = ref.kind === 'Lease' ? leaseToSession.get(ref.name) : undefined
      if (session !== undefined) add(session, { how: 'meshed', service: group })
    }
  }
  return held
}

async function listManagedPods(kube: Kube, signal: AbortSignal | undefined): Promise<V1Pod[]> {
  const namespace = kube.namespace
  const list = await kube.call(
    { verb: 'list', resource: 'pods', namespace },
    (o) => kube.core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR }, o),
    signal,
  )
  return list.items
}
