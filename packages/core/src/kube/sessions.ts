import type { ResourceRef } from '../errors.js'
import type { Kube } from './client.js'
import { sessionSelector } from './labels.js'
import { deleteIgnoringMissing } from './lease.js'
import { type Liveness, judgeLease } from './liveness.js'
import { deleteServiceAndWait } from './preview-service.js'
import { deletePodAndWait } from './shadow.js'

/** A session that owns something in the cluster, and whether it still runs. */
export interface SessionStatus {
  readonly id: string
  readonly owner: string | undefined
  readonly lease: string
  readonly liveness: Liveness
}

/** The Lease name of a session (what `openLease` creates). */
export function leaseNameOf(session: string): string {
  return `ktx-${session}`
}

/** Judges one session by its Lease. */
export async function sessionStatus(
  kube: Kube,
  id: string,
  options: {
    readonly owner?: string | undefined
    readonly lease?: string | undefined
    readonly signal?: AbortSignal
  },
): Promise<SessionStatus> {
  const lease = options.lease ?? leaseNameOf(id)
  return { id, owner: options.owner, lease, liveness: await judgeLease(kube, lease, options.signal) }
}

/**
 * Deletes what a session made in the namespace: its Services (a preview's), its pods (waiting
 * until they are gone, so a label query right after finds nothing) and its Lease (whose deletion
 * garbage-collects anything else it owns, but only eventually). Returns what was deleted.
 */
export async function deleteSessionObjects(
  kube: Kube,
  session: string,
  signal?: AbortSignal,
): Promise<ResourceRef[]> {
  const namespace = kube.namespace
  const labelSelector = sessionSelector(session)
  const deleted: ResourceRef[] = []
  // Services first: callers stop being sent to a pod that is about to go.
  const services = await kube.call(
    { verb: 'list', resource: 'services', namespace },
    (o) => kube.core.listNamespacedService({ namespace, labelSelector }, o),
    signal,
  )
  for (const service of services.items) {
    const name = service.metadata?.name ?? ''
    await deleteServiceAndWait(kube, name, signal)
    deleted.push({ kind: 'Service', name, namespace })
  }
  const pods = await kube.call(
    { verb: 'list', resource: 'pods', namespace },
    (o) => kube.core.listNamespacedPod({ namespace, labelSelector }, o),
    signal,
  )
  await Promise.all(
    pods.items.map(async (pod) => {
      const name = pod.metadata?.name ?? ''
      await deletePodAndWait(kube, name, signal)
      deleted.push({ kind: 'Pod', name, namespace })
    }),
  )
  const leases = await kube.call(
    { verb: 'list', resource: 'leases', namespace },
    (o) => kube.coordination.listNamespacedLease({ namespace, labelSelector }, o),
    signal,
  )
  for (const lease of leases.items) {
    const name = lease.metadata?.name ?? ''
    await deleteIgnoringMissing(() =>
      kube.call(
        { verb: 'delete', resource: 'leases', namespace, name },
        (o) => kube.coordination.deleteNamespacedLease({ name, namespace }, o),
        signal,
      ),
    )
    deleted.push({ kind: 'Lease', name, namespace })
  }
  return deleted
}
