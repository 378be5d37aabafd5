import { type V1Pod, Watch } from '@kubernetes/client-node'

import { PermissionError, TimeoutError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Kube } from './client.js'
import { toKubeError } from './errors.js'
import { deleteIgnoringMissing } from './lease.js'
import { judgePod } from './pod-status.js'
import { type ShadowSpec, buildShadowPod } from './shadow-spec.js'

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
 * (image pull failures, crashes) with an error that names the image and pod.
 * @throws KubeApiError `KTX_SHADOW_IMAGE_PULL` | `KTX_SHADOW_CRASHED` | `KTX_SHADOW_FAILED`,
 *   TimeoutError `KTX_SHADOW_NOT_READY` (option `timeouts.podReadyMs`), or `signal.reason`.
 */
export async function waitPodReady(kube: Kube, options: WaitPodReadyOptions): Promise<V1Pod> {
  const { name, image, timeoutMs, logger } = options
  const namespace = kube.namespace
  const controller = new AbortController()
  const onAbort = (): void => {
    controller.abort(options.signal?.reason)
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  let lastDetail = 'no status yet'
  let timer: NodeJS.Timeout | undefined
  try {
    return await new Promise<V1Pod>((resolve, reject) => {
      const settle = (fn: () => void): void => {
        if (controller.signal.aborted) return
        fn()
        controller.abort()
      }
      timer = setTimeout(() => {
        settle(() => {
          reject(
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
          )
        })
      }, timeoutMs)
      controller.signal.addEventListener('abort', () => {
        if (options.signal?.aborted) reject(options.signal.reason as Error)
      })

      const consider = (pod: V1Pod): void => {
        const verdict = judgePod(pod, image)
        if (verdict.state === 'ready') settle(() => resolve(pod))
        else if (verdict.state === 'failed') settle(() => reject(verdict.error))
        else if (verdict.detail !== lastDetail) {
          lastDetail = verdict.detail
          logger.debug('Shadow pod not ready yet', { pod: name, detail: verdict.detail })
        }
      }
      const fail = (error: unknown): void =>
        settle(() => reject(error instanceof Error ? error : new Error(String(error))))

      // List-then-watch: a fresh GET tells the current state and the resourceVersion to watch
      // from; when the server ends the watch (it does, after minutes) we loop and do it again.
      const loop = async (resourceVersion: string | undefined): Promise<void> => {
        let version = resourceVersion
        while (!controller.signal.aborted) {
          if (version === undefined) {
            const pod = await kube.call(
              { verb: 'get', resource: 'pods', namespace, name },
              (o) => kube.core.readNamespacedPod({ name, namespace }, o),
              controller.signal,
            )
            consider(pod)
            version = pod.metadata?.resourceVersion
          }
          version = await watchOnce(kube, name, version, consider, controller.signal)
        }
      }
      if (options.created) consider(options.created)
      loop(options.created?.metadata?.resourceVersion).catch((error: unknown) => {
        if (!controller.signal.aborted) fail(error)
      })
    })
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
    controller.abort()
  }
}

// One watch request; resolves with the resourceVersion to resume from (undefined = re-list).
async function watchOnce(
  kube: Kube,
  name: string,
  resourceVersion: string | undefined,
  onPod: (pod: V1Pod) => void,
  signal: AbortSignal,
): Promise<string | undefined> {
  const namespace = kube.namespace
  let version = resourceVersion
  let stop: AbortController | undefined
  const ended = new Promise<void>((resolve, reject) => {
    new Watch(kube.config)
      .watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        {
          fieldSelector: `metadata.name=${name}`,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: 240,
        },
        (type: string, object: unknown) => {
          if (type === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; re-list.
            version = undefined
            return
          }
          const pod = object as V1Pod
          version = pod.metadata?.resourceVersion ?? version
          if (type === 'ADDED' || type === 'MODIFIED') onPod(pod)
          if (type === 'DELETED')
            onPod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date() } })
        },
        (error: unknown) => {
          if (error === null || error === undefined || signal.aborted) resolve()
          else reject(mapWatchError(kube, error))
        },
      )
      .then((controller) => {
        stop = controller
        if (signal.aborted) controller.abort()
      }, reject)
  })
  const onAbort = (): void => stop?.abort()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await ended
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  return version
}

function mapWatchError(kube: Kube, error: unknown): Error {
  const status = (error as { statusCode?: unknown }).statusCode
  if (status === 403) {
    return new PermissionError(
      'KTX_KUBE_FORBIDDEN',
      `Not allowed to watch pods in namespace "${kube.namespace}"`,
      {
        verb: 'watch',
        resource: 'pods',
        cause: error,
        suggestions: [`Ask for RBAC rights to "watch" on "pods" in namespace "${kube.namespace}".`],
      },
    )
  }
  return toKubeError(error, {
    verb: 'watch',
    resource: 'pods',
    namespace: kube.namespace,
    server: kube.server,
  })
}

/**
 * Deletes the pod and waits until the API no longer has it, so a label query right after
 * `close()` finds nothing. Polls with a short backoff bounded by `signal`.
 */
export async function deletePodAndWait(kube: Kube, name: string, signal?: AbortSignal): Promise<void> {
  const namespace = kube.namespace
  await deleteIgnoringMissing(() =>
    kube.call(
      { verb: 'delete', resource: 'pods', namespace, name },
      (o) => kube.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1 }, o),
      signal,
    ),
  )
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 1_000)) {
    try {
      await kube.call(
        { verb: 'get', resource: 'pods', namespace, name },
        (o) => kube.core.readNamespacedPod({ name, namespace }, o),
        signal,
      )
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return
      throw new Error(`waiting for pod ${namespace}/${name} to go away: ${messageOf(error)}`, {
        cause: error,
      })
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    signal?.throwIfAborted()
  }
}
