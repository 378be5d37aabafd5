/**
 * The Service a preview session creates: `<name>`, selecting only the session's shadow pod
 * (`ktx.dev/preview=<session>`), one port per `--expose` remote port, labelled as ktx's and owned
 * by the session Lease, so deleting an expired Lease garbage-collects it even when no ktx runs.
 */
import type { V1OwnerReference, V1Service } from '@kubernetes/client-node'

import { ANNOTATIONS, LABELS, MANAGED_BY, PREVIEW_LABEL } from '../contract.js'
import { KubeApiError, messageOf } from '../errors.js'
import { backoff, sleep } from '../util/sleep.js'
import type { Kube } from './client.js'
import { sessionAnnotations, sessionLabels } from './labels.js'
import { deleteIgnoringMissing } from './lease.js'

/** Everything that decides a preview Service's manifest. */
export interface PreviewServiceSpec {
  readonly name: string
  readonly namespace: string
  readonly sessionId: string
  /** `user@host` for the owner annotation. */
  readonly owner: string
  /** `LoadBalancer` for `--external`. */
  readonly type: 'ClusterIP' | 'LoadBalancer'
  /** The remote (cluster-side) ports: each is both the Service port and the shadow's port. */
  readonly ports: readonly number[]
  /** The session Lease. */
  readonly ownerReference: V1OwnerReference
  /** A ClusterIP to ask for (a taken-over Service's); default: the cluster picks one. */
  readonly clusterIP?: string | undefined
}

/** Builds the preview Service manifest (pure). */
export function buildPreviewService(spec: PreviewServiceSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: sessionLabels(spec.sessionId, 'preview'),
      annotations: sessionAnnotations(spec.owner),
      ownerReferences: [spec.ownerReference],
    },
    spec: {
      type: spec.type,
      ...(spec.clusterIP === undefined ? {} : { clusterIP: spec.clusterIP }),
      selector: { [PREVIEW_LABEL]: spec.sessionId },
      // No protocol prefix in the names (`http-`, `tcp-`): a service mesh then detects the
      // protocol itself instead of being told something about the local process ktx cannot know.
      ports: spec.ports.map((port) => ({ name: `port-${port}`, port, targetPort: port, protocol: 'TCP' })),
    },
  }
}

/** Who made an existing Service, as far as a preview cares. */
export type ServiceOrigin =
  | { readonly kind: 'preview'; readonly session: string; readonly owner: string | undefined }
  | { readonly kind: 'foreign' }

/**
 * A Service ktx's preview made carries ktx's managed-by label, role `preview` and a session;
 * anything else (a user's Service, an exchanged one) is not ktx's to replace.
 */
export function originOf(service: V1Service): ServiceOrigin {
  const labels = service.metadata?.labels ?? {}
  const session = labels[LABELS.session]
  if (labels[LABELS.managedBy] !== MANAGED_BY || labels[LABELS.role] !== 'preview' || session === undefined)
    return { kind: 'foreign' }
  return { kind: 'preview', session, owner: service.metadata?.annotations?.[ANNOTATIONS.owner] }
}

/**
 * Creates the Service in `kube.namespace`.
 * @throws ConflictError `KTX_KUBE_CONFLICT` when the name is taken meanwhile, or the create's
 *   other KtxErrors.
 */
export function createPreviewService(kube: Kube, body: V1Service, signal?: AbortSignal): Promise<V1Service> {
  const namespace = kube.namespace
  return kube.call(
    { verb: 'create', resource: 'services', namespace },
    (o) => kube.core.createNamespacedService({ namespace, body }, o),
    signal,
  )
}

/**
 * Deletes a Service and waits until the API no longer has it, so a label query right after finds
 * nothing. A Service held by finalizers (a cloud load balancer being torn down) counts as gone
 * once its deletion has begun: the cloud controller finishes it, not ktx.
 */
export async function deleteServiceAndWait(kube: Kube, name: string, signal?: AbortSignal): Promise<void> {
  const namespace = kube.namespace
  await deleteIgnoringMissing(() =>
    kube.call(
      { verb: 'delete', resource: 'services', namespace, name },
      (o) => kube.core.deleteNamespacedService({ name, namespace }, o),
      signal,
    ),
  )
  for (const delayMs of backoff(100, 1_000)) {
    let service: V1Service
    try {
      service = await kube.call(
        { verb: 'get', resource: 'services', namespace, name },
        (o) => kube.core.readNamespacedService({ name, namespace }, o),
        signal,
      )
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return
      throw new KubeApiError(
        'KTX_KUBE_API',
        `waiting for service ${namespace}/${name} to go away: ${messageOf(error)}`,
        { cause: error },
      )
    }
    if (service.metadata?.deletionTimestamp && (service.metadata.finalizers ?? []).length > 0) return
    await sleep(delayMs, signal)
  }
}
