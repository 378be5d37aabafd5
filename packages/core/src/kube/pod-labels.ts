import type { Kube } from './client.js'
import { type PatchOp, labelOps, pointerKey } from './json-patch.js'

/**
 * Adds `labels` to a pod (or, with `remove`, takes those keys off again). A pod that is already
 * gone counts as done when removing.
 */
export async function patchPodLabels(
  kube: Kube,
  pod: string,
  labels: Readonly<Record<string, string>>,
  options: { readonly remove?: boolean; readonly signal?: AbortSignal } = {},
): Promise<void> {
  const namespace = kube.namespace
  const { signal } = options
  let current
  try {
    current = await kube.call(
      { verb: 'get', resource: 'pods', namespace, name: pod },
      (o) => kube.core.readNamespacedPod({ name: pod, namespace }, o),
      signal,
    )
  } catch (error) {
    if (options.remove && (error as { status?: unknown }).status === 404) return
    throw error
  }
  const present = current.metadata?.labels ?? {}
  const ops: PatchOp[] = options.remove
    ? Object.keys(labels)
        .filter((key) => key in present)
        .map((key) => ({ op: 'remove', path: `/metadata/labels/${pointerKey(key)}` }))
    : labelOps(current.metadata?.labels, labels)
  if (ops.length === 0) return
  await kube.call(
    { verb: 'patch', resource: 'pods', namespace, name: pod },
    (o) => kube.core.patchNamespacedPod({ name: pod, namespace, body: ops }, o),
    signal,
  )
}
