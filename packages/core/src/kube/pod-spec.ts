import type { V1PodSpec } from '@kubernetes/client-node'

import type { Kube } from './client.js'

/**
 * The spec of one running pod carrying `selector`'s labels, for resolving a Service's named target
 * ports when no workload template is at hand (bare pods). Undefined when none runs.
 */
export async function findPodSpec(
  kube: Kube,
  selector: Readonly<Record<string, string>> | undefined,
  signal?: AbortSignal,
): Promise<V1PodSpec | undefined> {
  if (selector === undefined || Object.keys(selector).length === 0) return undefined
  const namespace = kube.namespace
  const labelSelector = Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
  const pods = await kube.call(
    { verb: 'list', resource: 'pods', namespace },
    (o) => kube.core.listNamespacedPod({ namespace, labelSelector, limit: 1 }, o),
    signal,
  )
  return pods.items[0]?.spec
}
