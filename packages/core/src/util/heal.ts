/**
 * Keeps one link alive (a connection that can die: the port-forward + SSH to the shadow pod, the
 * router's control connection). When it is lost, new ones are opened with jittered backoff until
 * one works or the budget runs out; meanwhile the link is `degraded` and callers may wait for it.
 */
import { messageOf } from '../errors.js'
import { backoff, sleep } from './sleep.js'

/** Options of {@link keepAlive}. */
export interface KeepAliveOptions<T> {
  /** The link as first opened. */
  readonly first: T
  /** Settles when `link` is gone: with the error when it was lost, `undefined` when closed on purpose. */
  readonly lost: (link: T) => Promise<Error | undefined>
  /**
   * Opens the next link, redoing whatever the old one carried. `signal` is bounded by the budget
   * left. A rejection is one failed attempt.
   */
  readonly reopen: (signal: AbortSignal, attempt: number) => Promise<T>
  /** Frees what is left of a dead link (called once per link, before the first reopen). */
  readonly discard: (link: T) => void
  /** How long one outage may last before {@link Healer.ended} settles with `giveUp`'s error. */
  readonly budgetMs: number
  /** First pause between attempts; doubles up to {@link maxDelayMs}, each with jitter. Default 250. */
  readonly firstDelayMs?: number
  /** Default 5 000. */
  readonly maxDelayMs?: number
  /** Aborting stops any healing in progress (the session is closing). */
  readonly signal: AbortSignal
  readonly onDegraded?: (error: Error) => void
  readonly onAttemptFailed?: (error: unknown, attempt: number) => void
  readonly onRestored?: (link: T, outage: { readonly downMs: number; readonly attempts: number }) => void
  /** An attempt error that no retry can cure: the healer ends with it at once. */
  readonly fatal?: (error: unknown) => boolean
  /** The error the healer ends with when the budget ran out; `last` is the last attempt's error. */
  readonly giveUp: (last: unknown, downMs: number) => Error
}

/** A link kept alive by {@link keepAlive}. */
export interface Healer<T> {
  /** The newest link (dead while `degraded`). */
  readonly current: T
  readonly state: 'ready' | 'degraded'
  /** Settles when healing gave up (with its error), never otherwise. */
  readonly ended: Promise<Error>
  /** The link once ready: at once when it is, else when it is back (rejects after `waitMs` or when healing gave up). */
  ready(waitMs: number): Promise<T>
}

/** Watches `first` and replaces it through `reopen` each time it is lost. */
export function keepAlive<T>(options: KeepAliveOptions<T>): Healer<T> {
  const { signal } = options
  // A function, not the property: the checks after an await must not be narrowed away.
  const stopped = (): boolean => signal.aborted
  let current = options.first
  let state: Healer<T>['state'] = 'ready'
  let gaveUp: Error | undefined
  let resolveEnded: (error: Error) => void = () => undefined
  const ended = new Promise<Error>((resolve) => (resolveEnded = resolve))
  const waiters = new Set<() => void>()
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter()
  }

  const watch = (link: T): void => {
    void options.lost(link).then((error) => {
      if (error === undefined || stopped() || link !== current) return
      void heal(error)
    })
  }

  const heal = async (cause: Error): Promise<void> => {
    state = 'degraded'
    options.discard(current)
    options.onDegraded?.(cause)
    const started = Date.now()
    const deadline = started + options.budgetMs
    let last: unknown = cause
    let attempt = 0
    for (const delay of backoff(options.firstDelayMs ?? 250, options.maxDelayMs ?? 5_000)) {
      const remaining = deadline - Date.now()
      if (stopped() || remaining <= 0) break
      attempt += 1
      try {
        const link = await options.reopen(AbortSignal.any([signal, AbortSignal.timeout(remaining)]), attempt)
        if (stopped()) {
          options.discard(link)
          return
        }
        current = link
        state = 'ready'
        options.onRestored?.(link, { downMs: Date.now() - started, attempts: attempt })
        wake()
        watch(link)
        return
      } catch (error) {
        if (stopped()) return
        if (options.fatal?.(error)) {
          end(error instanceof Error ? error : new Error(messageOf(error)))
          return
        }
        last = error
        options.onAttemptFailed?.(error, attempt)
      }
      // Full jitter over the upper half: many sessions cut by one API-server restart do not retry in step.
      const pause = delay / 2 + Math.random() * (delay / 2)
      if (Date.now() + pause >= deadline) break
      await sleep(pause, signal).catch(() => undefined)
    }
    if (stopped()) return
    end(options.giveUp(last, Date.now() - started))
  }
  const end = (error: Error): void => {
    gaveUp = error
    resolveEnded(error)
    wake()
  }

  watch(current)
  return {
    get current() {
      return current
    },
    get state() {
      return state
    },
    ended,
    ready(waitMs) {
      if (state === 'ready') return Promise.resolve(current)
      if (gaveUp) return Promise.reject(gaveUp)
      if (signal.aborted) return Promise.reject(stillDown(waitMs, signal))
      return new Promise<T>((resolve, reject) => {
        const settle = (): void => {
          clearTimeout(timer)
          waiters.delete(settle)
          signal.removeEventListener('abort', settle)
          if (state === 'ready') resolve(current)
          else reject(gaveUp ?? stillDown(waitMs, signal))
        }
        const timer = setTimeout(settle, waitMs)
        waiters.add(settle)
        signal.addEventListener('abort', settle, { once: true })
      })
    },
  }
}

function stillDown(waitMs: number, signal: AbortSignal): Error {
  if (signal.aborted) return new Error(`closed while reconnecting: ${messageOf(signal.reason)}`)
  return new Error(`still reconnecting after ${waitMs} ms`)
}
