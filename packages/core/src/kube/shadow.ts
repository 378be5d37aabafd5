import type { V1Pod } from '@kubernetes/client-node'

import { KubeApiError, TimeoutError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { backoff, sleep } from '../util/sleep.js'
import type { Kube } from './client.js'
import { deleteIgnoringMissing } from './lease.js'
import { type PodVerdict, judgePod } from './pod-status.js'
import { type ShadowSpec, buildShadowPod } from './shadow-spec.js'
import { waitForWatched } from './wait.js'

/**
 * Creates the shadow pod from `spec` in `kube.namespace`.
 * @throws PermissionError / ConfigError / KubeApiError / TunnelError from the create call.
 */
export async function createShadowPod(kube: Kube, spec: ShadowSpec, signal?: AbortSignal): Promise<V1Pod> {
  const body = buildShadowPod(spec)
  const namespace = spec.namespace
  return kube.call(
    { verb: 'create', resource: 'pods', namespace },
    (o) => kube.core.createNamespacedPod({ namespace, body }, o),
    signal,
  )
}

/** Options of {@link waitPodReady}. */
export interface WaitPodReadyOptions {
  readonly name: string
  readonly image: string
  readonly timeoutMs: number
  /** The pod as created; its resourceVersion starts the watch so no change is missed. */
  readonly created?: V1Pod
  readonly signal?: AbortSignal
  readonly logger: Logger
}

/**
 * Watches the pod until its Ready condition is True. Fails fast on states that will not recover
 * (image pull failures, crashes, the pod deleted) with an error that names the image and pod.
 * @throws KubeApiError `KTX_SHADOW_IMAGE_PULL` | `KTX_SHADOW_CRASHED` | `KTX_SHADOW_FAILED`,
 *   TimeoutError `KTX_SHADOW_NOT_READY` (option `timeouts.podReadyMs`), or `signal.reason`.
 */
export async function waitPodReady(kube: Kube, options: WaitPodReadyOptions): Promise<V1Pod> {
  const { name, image, timeoutMs, logger } = options
  const namespace = kube.namespace
  const fieldSelector = `metadata.name=${name}`
  let latest: V1Pod | undefined = options.created
  let lastDetail = 'no status yet'
  const verdict = (): PodVerdict | undefined => {
    if (latest === undefined) return undefined
    const judged = judgePod(latest, image)
    if (judged.state === 'waiting' && judged.detail !== lastDetail) {
      lastDetail = judged.detail
      logger.debug('Shadow pod not ready yet', { pod: name, detail: judged.detail })
    }
    return judged
  }
  await waitForWatched<V1Pod>(kube, {
    watch: {
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      resource: 'pods',
      fieldSelector,
      list: (signal) =>
        kube.call(
          { verb: 'list', resource: 'pods', namespace },
          (o) => kube.core.listNamespacedPod({ namespace, fieldSelector }, o),
          signal,
        ),
    },
    // A pod missing from a fresh list, or reported deleted, is judged as being deleted.
    reset: () => {
      latest = latest && { ...latest, metadata: { ...latest.metadata, deletionTimestamp: new Date() } }
    },
    reduce: (type, pod) => {
      latest =
        type === 'DELETED' ? { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date() } } : pod
    },
    done: () => verdict()?.state === 'ready',
    failure: () => {
      const judged = verdict()
      return judged?.state === 'failed' ? judged.error : undefined
    },
    timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onTimeout: () =>
      new TimeoutError(
        'KTX_SHADOW_NOT_READY',
        `Shadow pod ${namespace}/${name} not Ready after ${Math.round(timeoutMs / 1000)}s (${lastDetail})`,
        {
          option: 'timeouts.podReadyMs',
          timeoutMs,
          suggestions: [
            'Raise the limit with --podCreationTimeout <seconds>.',
            `Look at the pod: kubectl describe pod -n ${namespace} ${name}`,
          ],
        },
      ),
  })
  // done() held, so there is a pod; the check is for the type checker.
  if (latest === undefined)
    throw new KubeApiError('KTX_SHADOW_FAILED', `Shadow pod ${namespace}/${name} vanished`)
  return latest
}

/**
 * Deletes the pod and waits until the API no longer has it, so a label query right after
 * `close()` finds nothing. Polls with a short backoff bounded by `signal`.
 */
export async function deletePodAndWait(kube: Kube, name: string, signal?: AbortSignal): Promise<void> {
  await deletePod(kube, name, signal)
  await waitPodGone(kube, name, signal)
}

/** Deletes the pod (1 s grace); a missing pod is fine. */
export async function deletePod(kube: Kube, name: string, signal?: AbortSignal): Promise<void> {
  const namespace = kube.namespace
  await deleteIgnoringMissing(() =>
    kube.call(
      { verb: 'delete', resource: 'pods', namespace, name },
      (o) => kube.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1 }, o),
      signal,
    ),
  )
}

/** Resolves once the API no longer has the pod. Polls with a short backoff bounded by `signal`. */
export async function waitPodGone(kube: Kube, name: string, signal?: AbortSignal): Promise<void> {
  const namespace = kube.namespace
  for (const delayMs of backoff(100, 1_000)) {
    try {
      await kube.call(
        { verb: 'get', resource: 'pods', namespace, name },
        (o) => kube.core.readNamespacedPod({ name, namespace }, o),
        signal,
      )
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return
      throw new KubeApiError(
        'KTX_KUBE_API',
        `waiting for pod ${namespace}/${name} to go away: ${messageOf(error)}`,
        {
          cause: error,
        },
      )
    }
    await sleep(delayMs, signal)
  }
}

/** The pod, or `undefined` when the API has none of that name. */
export async function readPod(kube: Kube, name: string, signal?: AbortSignal): Promise<V1Pod | undefined> {
  const namespace = kube.namespace
  try {
    return await kube.call(
      { verb: 'get', resource: 'pods', namespace, name },
      (o) => kube.core.readNamespacedPod({ name, namespace }, o),
      signal,
    )
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) return undefined
    throw error
  }
}
