import type { V1Service } from '@kubernetes/client-node'

import { KubeApiError } from '../errors.js'
import type { Kube } from './client.js'
import type { PatchOp } from './json-patch.js'
import type { WatchObjectsOptions } from './watch.js'

/**
 * Reads a Service.
 * @throws KubeApiError `KTX_SERVICE_NOT_FOUND` listing the Services that do exist, or the read's
 *   KtxError.
 */
export async function readService(kube: Kube, name: string, signal?: AbortSignal): Promise<V1Service> {
  const service = await findService(kube, name, signal)
  if (service) return service
  const namespace = kube.namespace
  const names = (await listServices(kube, signal)).map((s) => s.metadata?.name ?? '')
  throw new KubeApiError('KTX_SERVICE_NOT_FOUND', `Service "${name}" not found in namespace "${namespace}"`, {
    status: 404,
    suggestions: [
      names.length > 0
        ? `Services in "${namespace}": ${names.join(', ')}`
        : `There are no Services in "${namespace}"; pick the namespace with -n.`,
    ],
  })
}

/** Reads a Service, or undefined when it does not exist. */
export async function findService(
  kube: Kube,
  name: string,
  signal?: AbortSignal,
): Promise<V1Service | undefined> {
  const namespace = kube.namespace
  try {
    return await kube.call(
      { verb: 'get', resource: 'services', namespace, name },
      (o) => kube.core.readNamespacedService({ name, namespace }, o),
      signal,
    )
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) return undefined
    throw error
  }
}

/** Every Service in the namespace. */
export async function listServices(kube: Kube, signal?: AbortSignal): Promise<V1Service[]> {
  const namespace = kube.namespace
  const list = await kube.call(
    { verb: 'list', resource: 'services', namespace },
    (o) => kube.core.listNamespacedService({ namespace }, o),
    signal,
  )
  return list.items
}

/** Applies a JSON patch to a Service and returns the result. */
export function patchService(
  kube: Kube,
  name: string,
  ops: readonly PatchOp[],
  signal?: AbortSignal,
): Promise<V1Service> {
  const namespace = kube.namespace
  return kube.call(
    { verb: 'patch', resource: 'services', namespace, name },
    (o) => kube.core.patchNamespacedService({ name, namespace, body: [...ops] }, o),
    signal,
  )
}

/** The collection holding just Service `name`, for `keepWatching` / `watchObjects`. */
export function oneServiceCollection(
  kube: Kube,
  name: string,
): Pick<WatchObjectsOptions<V1Service>, 'path' | 'resource' | 'fieldSelector' | 'list'> {
  const namespace = kube.namespace
  const fieldSelector = `metadata.name=${name}`
  return {
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`,
    resource: 'services',
    fieldSelector,
    list: (signal) =>
      kube.call(
        { verb: 'list', resource: 'services', namespace },
        (o) => kube.core.listNamespacedService({ namespace, fieldSelector }, o),
        signal,
      ),
  }
}
