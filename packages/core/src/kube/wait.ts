import type { Kube } from './client.js'
import { type WatchEventType, type WatchObjectsOptions, watchObjects } from './watch.js'

/** Options of {@link waitForWatched}. */
export interface WaitForWatchedOptions<T> {
  /** What to watch (path, selectors, list). */
  readonly watch: Omit<WatchObjectsOptions<T>, 'onEvent' | 'onSynced' | 'onRelist' | 'signal'>
  /** Forgets every object (a fresh list follows). */
  readonly reset?: () => void
  /** Folds one event into the caller's view of the objects. */
  readonly reduce: (type: WatchEventType, object: T) => void
  /** True once the awaited state is reached; checked after each list and each event after it. */
  readonly done: () => boolean
  /** An error once the state can no longer be reached (checked like {@link done}); ends the wait. */
  readonly failure?: () => Error | undefined
  readonly timeoutMs: number
  /** The error to reject with when `timeoutMs` runs out. */
  readonly onTimeout: () => Error
  readonly signal?: AbortSignal
}

/**
 * Watches objects until `done()` holds: readiness observed, never assumed.
 * @throws the `onTimeout()` error, the `failure()` error, the watch's KtxError, or `signal.reason`
 *   when aborted.
 */
export async function waitForWatched<T extends { metadata?: { resourceVersion?: string } }>(
  kube: Kube,
  options: WaitForWatchedOptions<T>,
): Promise<void> {
  const stop = new AbortController()
  const signal = AbortSignal.any([stop.signal, ...(options.signal ? [options.signal] : [])])
  const state: { synced: boolean; reached: boolean; timedOut: boolean; failed?: Error } = {
    synced: false,
    reached: false,
    timedOut: false,
  }
  const timer = setTimeout(() => {
    state.timedOut = true
    stop.abort()
  }, options.timeoutMs)
  const check = (): void => {
    if (!state.synced || state.reached || state.failed) return
    const failed = options.failure?.()
    if (failed) state.failed = failed
    else if (options.done()) state.reached = true
    else return
    stop.abort()
  }
  try {
    await watchObjects(kube, {
      ...options.watch,
      signal,
      ...(options.reset ? { onRelist: options.reset } : {}),
      onEvent: (type, object) => {
        options.reduce(type, object)
        check()
      },
      onSynced: () => {
        state.synced = true
        check()
      },
    })
  } finally {
    clearTimeout(timer)
    stop.abort()
  }
  if (state.reached) return
  if (state.failed) throw state.failed
  if (options.signal?.aborted) throw options.signal.reason
  if (state.timedOut) throw options.onTimeout()
}
