/**
 * Abortable waiting for the few places that must poll (a process exiting, a pod going away, a
 * probe through a tunnel that is still settling). Readiness that has an event is awaited on the
 * event instead.
 */
import { messageOf } from '../errors.js'

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts. The timer is
 * ref'd unless asked otherwise: a teardown waiting on it must keep the process alive.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  options: { readonly unref?: boolean } = {},
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    if (options.unref) timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Delays that start at `firstMs` and double up to `maxMs`, for ever. */
export function* backoff(firstMs: number, maxMs: number): Generator<number, never> {
  for (let delay = firstMs; ; delay = Math.min(delay * 2, maxMs)) yield delay
}

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Give up once this much time has passed. */
  readonly timeoutMs: number
  /** First pause between attempts; doubles up to {@link maxDelayMs}. Default 100. */
  readonly firstDelayMs?: number
  /** Default 1 000. */
  readonly maxDelayMs?: number
  readonly signal?: AbortSignal | undefined
}

/**
 * Calls `attempt` until it resolves, pausing with backoff between failures. Each attempt gets a
 * signal bounded by the time left. When the time runs out, rejects with `fail(last error message)`;
 * when `signal` aborts, with its reason.
 */
export async function retry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
  fail: (last: string) => Error,
): Promise<T> {
  const { signal } = options
  const deadline = Date.now() + options.timeoutMs
  let last = 'not tried'
  for (const delay of backoff(options.firstDelayMs ?? 100, options.maxDelayMs ?? 1_000)) {
    signal?.throwIfAborted()
    const remaining = Math.max(deadline - Date.now(), 1)
    try {
      return await attempt(AbortSignal.any([AbortSignal.timeout(remaining), ...(signal ? [signal] : [])]))
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      last = messageOf(error)
    }
    if (Date.now() + delay >= deadline) throw fail(last)
    await sleep(delay, signal)
  }
  throw fail(last)
}
