import { V1MicroTime, type V1Lease, type V1OwnerReference } from '@kubernetes/client-node'

import { ANNOTATIONS } from '../contract.js'
import type { Logger } from '../logger.js'
import type { Kube } from './client.js'
import { sessionAnnotations, sessionLabels } from './labels.js'
import { startLeaseRenewal } from './lease-renewal.js'

/** Options of {@link createSessionLease}. */
export interface SessionLeaseOptions {
  readonly name: string
  readonly sessionId: string
  readonly owner: string
  /** The verb running the session (recorded for `ktx status`). */
  readonly verb?: string
  /** Lease duration; renewed every third of it (see lease-renewal.ts). */
  readonly durationSeconds: number
  readonly logger: Logger
  /**
   * Called once per outage when renewals keep failing and the Lease is about to lapse, or when it
   * is gone (the session keeps running; `clean` may reap it once expired).
   */
  readonly onRenewFailed?: (error: unknown) => void
  readonly signal?: AbortSignal
}

/**
 * The session's `coordination.k8s.io/v1` Lease: the anchor every other ktx object of the session
 * points at with an ownerReference, so deleting it garbage-collects them, and the heartbeat that
 * tells `ktx clean` the session is alive. Needs {@link SessionLease.close} (stops renewing and
 * deletes the lease).
 */
export interface SessionLease extends AsyncDisposable {
  readonly name: string
  readonly namespace: string
  /** Reference to put in the `ownerReferences` of the session's objects. */
  readonly ownerReference: V1OwnerReference
  /** Stops renewing and deletes the lease (404 counts as done). */
  close(signal?: AbortSignal): Promise<void>
  /** Stops renewing only. */
  stopRenewing(): void
  /** Whether this very Lease (same uid) still exists: false once someone deleted it. */
  isHeld(signal?: AbortSignal): Promise<boolean>
}

/**
 * Creates the lease and starts renewing it on unref'd timers (they never keep the process alive).
 * @throws PermissionError / ConfigError (missing namespace) / TunnelError from the create call.
 */
export async function createSessionLease(kube: Kube, options: SessionLeaseOptions): Promise<SessionLease> {
  const namespace = kube.namespace
  const now = new V1MicroTime()
  const body: V1Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: options.name,
      namespace,
      labels: sessionLabels(options.sessionId, 'session'),
      annotations: {
        ...sessionAnnotations(options.owner),
        ...(options.verb === undefined ? {} : { [ANNOTATIONS.verb]: options.verb }),
      },
    },
    spec: {
      holderIdentity: options.owner,
      leaseDurationSeconds: options.durationSeconds,
      acquireTime: now,
      renewTime: now,
    },
  }
  const created = await kube.call(
    { verb: 'create', resource: 'leases', namespace },
    (o) => kube.coordination.createNamespacedLease({ namespace, body }, o),
    options.signal,
  )
  const uid = created.metadata?.uid ?? ''

  const renewal = startLeaseRenewal(kube, {
    name: options.name,
    durationSeconds: options.durationSeconds,
    logger: options.logger.child({ component: 'lease', lease: options.name }),
    ...(options.onRenewFailed ? { onRenewFailed: options.onRenewFailed } : {}),
  })
  const stopRenewing = (): void => {
    renewal.stop()
  }
  const close = async (signal?: AbortSignal): Promise<void> => {
    stopRenewing()
    await deleteIgnoringMissing(() =>
      kube.call(
        { verb: 'delete', resource: 'leases', namespace, name: options.name },
        (o) => kube.coordination.deleteNamespacedLease({ name: options.name, namespace }, o),
        signal,
      ),
    )
  }
  return {
    name: options.name,
    namespace,
    ownerReference: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: options.name,
      uid,
    },
    stopRenewing,
    close,
    async isHeld(signal) {
      try {
        const lease = await kube.call(
          { verb: 'get', resource: 'leases', namespace, name: options.name },
          (o) => kube.coordination.readNamespacedLease({ name: options.name, namespace }, o),
          signal,
        )
        return lease.metadata?.uid === uid
      } catch (error) {
        if ((error as { status?: unknown }).status === 404) return false
        throw error
      }
    },
    [Symbol.asyncDispose]: () => close(),
  }
}

/** Runs a delete call, treating "already gone" (404) as success. */
export async function deleteIgnoringMissing(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn()
  } catch (error) {
    // Gone already, or its whole namespace is: either way nothing is left to delete.
    const { status, code } = error as { status?: unknown; code?: unknown }
    if (status === 404 || code === 'KTX_KUBE_NAMESPACE_NOT_FOUND') return
    throw error
  }
}
