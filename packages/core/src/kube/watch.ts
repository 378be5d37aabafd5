import { Watch } from '@kubernetes/client-node'

import { KubeApiError, PermissionError } from '../errors.js'
import type { Kube } from './client.js'
import { toKubeError } from './errors.js'
import { backoff, sleep } from '../util/sleep.js'

/** A watch event as ktx uses it; `SYNC` is an object from the (re-)list that starts each round. */
export type WatchEventType = 'SYNC' | 'ADDED' | 'MODIFIED' | 'DELETED'

/** Options of {@link watchObjects}. */
export interface WatchObjectsOptions<T> {
  /** API path of the collection, e.g. `/api/v1/namespaces/ns/services`. */
  readonly path: string
  /** Plural resource name, for errors (`services`). */
  readonly resource: string
  readonly fieldSelector?: string
  readonly labelSelector?: string
  /** Lists the collection (same selectors); its items are reported as `SYNC`. */
  readonly list: (signal: AbortSignal) => Promise<{
    readonly items: readonly T[]
    readonly metadata?: { readonly resourceVersion?: string }
  }>
  /** Called after the list (with every item) and for each event. Must not throw. */
  readonly onEvent: (type: WatchEventType, object: T) => void
  /** Called before each (re-)list reports its items, so a caller can drop what it knew. */
  readonly onRelist?: () => void
  /** Called after each (re-)list, once its items were reported. */
  readonly onSynced?: () => void
  /** Stops the watch; the returned promise then resolves. */
  readonly signal: AbortSignal
}

/**
 * List-then-watch until `signal` aborts: lists the collection, watches from the list's
 * resourceVersion, resumes from the last seen version when the server ends a watch (it does, every
 * few minutes), and lists again when that version is too old (410 Gone). Never loops on its own
 * after `signal` aborts.
 * @throws PermissionError (403 on watch) or the list's KtxError; resolves when `signal` aborts.
 */
export async function watchObjects<T extends { metadata?: { resourceVersion?: string } }>(
  kube: Kube,
  options: WatchObjectsOptions<T>,
): Promise<void> {
  const { signal } = options
  const stopped = (): boolean => signal.aborted
  let version: string | undefined
  while (!stopped()) {
    if (version === undefined) {
      let listed
      try {
        listed = await options.list(signal)
      } catch (error) {
        if (stopped()) return
        throw error
      }
      options.onRelist?.()
      for (const item of listed.items) options.onEvent('SYNC', item)
      options.onSynced?.()
      version = listed.metadata?.resourceVersion
      if (version === undefined) {
        throw new KubeApiError('KTX_WATCH_FAILED', `listing ${options.resource} returned no resourceVersion`)
      }
    }
    version = await watchRound(kube, options, version)
  }
}

/**
 * {@link watchObjects} for the life of a session: after an error (the API server restarting, a
 * dropped connection, a 403 that RBAC may yet fix) it reports the error and starts over after a
 * pause (1 s, doubling to 30 s; back to 1 s once a list succeeds). Resolves when `signal` aborts;
 * never rejects.
 */
export async function keepWatching<T extends { metadata?: { resourceVersion?: string } }>(
  kube: Kube,
  options: WatchObjectsOptions<T> & {
    /** Told of each failed round and how long the pause before the next is. Must not throw. */
    readonly onError: (error: unknown, retryMs: number) => void
  },
): Promise<void> {
  const { signal } = options
  const stopped = (): boolean => signal.aborted
  let delays = backoff(1_000, 30_000)
  while (!stopped()) {
    try {
      await watchObjects(kube, {
        ...options,
        onSynced: () => {
          delays = backoff(1_000, 30_000)
          options.onSynced?.()
        },
      })
    } catch (error) {
      if (stopped()) return
      const retryMs = delays.next().value
      options.onError(error, retryMs)
      await sleep(retryMs, signal, { unref: true }).catch(() => undefined)
    }
  }
}

// One watch request; resolves with the version to resume from, or undefined to list again.
async function watchRound<T extends { metadata?: { resourceVersion?: string } }>(
  kube: Kube,
  options: WatchObjectsOptions<T>,
  resourceVersion: string,
): Promise<string | undefined> {
  const { signal } = options
  let version: string | undefined = resourceVersion
  let stop: AbortController | undefined
  const ended = new Promise<void>((resolve, reject) => {
    new Watch(kube.config)
      .watch(
        options.path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: 240,
          ...(options.fieldSelector === undefined ? {} : { fieldSelector: options.fieldSelector }),
          ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
        },
        (type: string, object: unknown) => {
          const item = object as T
          if (type === 'ERROR') {
            // Usually 410 Gone (our version is too old): start over with a fresh list.
            version = undefined
            return
          }
          if (type === 'BOOKMARK') {
            version = item.metadata?.resourceVersion ?? version
            return
          }
          version = item.metadata?.resourceVersion ?? version
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') options.onEvent(type, item)
        },
        (error: unknown) => {
          if (error === null || error === undefined || signal.aborted) resolve()
          else reject(mapWatchError(kube, options.resource, error))
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
  } catch (error) {
    if (signal.aborted) return undefined
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  return version
}

function mapWatchError(kube: Kube, resource: string, error: unknown): Error {
  const status = (error as { statusCode?: unknown }).statusCode
  if (status === 403) {
    return new PermissionError(
      'KTX_KUBE_FORBIDDEN',
      `Not allowed to watch ${resource} in namespace "${kube.namespace}"`,
      {
        verb: 'watch',
        resource,
        cause: error,
        suggestions: [`Ask for RBAC rights to "watch" on "${resource}" in namespace "${kube.namespace}".`],
      },
    )
  }
  return toKubeError(error, { verb: 'watch', resource, namespace: kube.namespace, server: kube.server })
}
