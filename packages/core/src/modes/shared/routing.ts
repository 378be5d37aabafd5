/**
 * Confirms that the cluster's Service proxy (kube-proxy, or whatever implements ClusterIPs) really
 * sends the Service's traffic to the shadow pod, or really stopped doing so. The EndpointSlices
 * say what the proxy should do; the proxy applies them a moment later (a second or more on a busy
 * node), and during that moment callers still reach the old pods. So ktx dials the Service's
 * ClusterIP from inside the shadow pod (through the agent) and watches whether the connection
 * comes back out of the shadow's own listener. This needs the node to route a pod's traffic back
 * to itself (hairpin); where it cannot, the check ends with a warning instead of an error.
 */
import type { Duplex } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'

import { DialError, type Dialer, dialErrorCode } from '../../tunnel/dialer.js'
import type { SetupContext } from './setup.js'

/** Counts connections arriving from the pod and lets a caller wait for the next one. */
export class Arrivals {
  #count = 0
  #waiters = new Set<() => void>()

  /** Call for every connection that arrives (`onArrival` of a reverse forward). */
  readonly record = (): void => {
    this.#count += 1
    for (const wake of this.#waiters) wake()
    this.#waiters.clear()
  }

  get count(): number {
    return this.#count
  }

  /** Resolves true when a connection arrives after `since` within `timeoutMs`, false otherwise. */
  async arrivedSince(since: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.#count > since) return true
    if (signal.aborted) return false
    // A ref'd timer (AbortSignal.timeout's is not): while it waits for an arrival, nothing else may
    // be keeping the process alive, and Node would exit in the middle of a teardown.
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', wake)
        this.#waiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, timeoutMs)
      this.#waiters.add(wake)
      signal.addEventListener('abort', wake, { once: true })
    })
    return this.#count > since
  }
}

/** Where to probe: the Service's ClusterIP and a port whose target is one of the exposed ports. */
export interface RoutingProbe {
  readonly dialer: Dialer
  readonly arrivals: Arrivals
  /** The ClusterIP, or a name the pod resolves to it (which then is confirmed too). */
  readonly host: string
  readonly port: number
}

/** Options of {@link confirmRouting}. */
export interface ConfirmRoutingOptions extends RoutingProbe {
  /** `shadow`: every probe must come back; `away`: none may. */
  readonly want: 'shadow' | 'away'
  readonly timeoutMs: number
  /** How long a probe that landed on the shadow may take to come back. Default 500. */
  readonly arrivalWindowMs?: number
  readonly signal: AbortSignal
}

// Consecutive probes that must agree. While the proxy still mixes the shadow with other pods (scale
// mode, where the shadow joins the workload's pods first) a third of the probes may land either way;
// ten in a row rule that out in all but about 1 in 60 000 (shadow) or 1 in 60 (away) cases.
const AGREEING_PROBES = 10
// How long after its dial completed a probe that landed on the shadow may take to come back: the
// agent sends both messages at once over the same connection, so this is not a round trip.
const ARRIVAL_WINDOW_MS = 150
const DIAL_TIMEOUT_MS = 5_000

/** How a routing check ended: agreed, out of time (the caller warns), or no tunnel left to probe through. */
export type RoutingVerdict = 'confirmed' | 'timed-out' | 'no-tunnel'

/**
 * Probes until {@link AGREEING_PROBES} consecutive probes agree with `want`.
 * @returns the verdict; never throws but `signal.reason`.
 */
export async function confirmRouting(options: ConfirmRoutingOptions): Promise<RoutingVerdict> {
  const { arrivals, signal } = options
  const deadline = Date.now() + options.timeoutMs
  let agreeing = 0
  while (agreeing < AGREEING_PROBES) {
    signal.throwIfAborted()
    if (Date.now() > deadline) return 'timed-out'
    const since = arrivals.count
    let socket
    try {
      socket = await dialWithin(options, DIAL_TIMEOUT_MS)
    } catch (error) {
      signal.throwIfAborted()
      // No tunnel, no probes: there is nothing left to confirm through.
      if (dialErrorCode(error) === 'ENOTCONN') return 'no-tunnel'
      // A refused probe met no pod (a stale rule to a pod that is gone, or a Service with none
      // behind it, such as a workload deleted under the session): not the shadow, which answers
      // while this runs. It agrees with `away`; for `shadow` it is retried after a short pause.
      agreeing = options.want === 'away' ? agreeing + 1 : 0
      await delay(100, undefined, { signal })
      continue
    }
    const arrived = await arrivals.arrivedSince(since, options.arrivalWindowMs ?? ARRIVAL_WINDOW_MS, signal)
    socket.destroy()
    agreeing = arrived === (options.want === 'shadow') ? agreeing + 1 : 0
  }
  return 'confirmed'
}

// A dial through a tunnel that silently died would never settle; a (ref'd) timer bounds it.
async function dialWithin(options: ConfirmRoutingOptions, timeoutMs: number): Promise<Duplex> {
  const stop = new AbortController()
  const timer = delay(timeoutMs, undefined, { signal: stop.signal }).then(() => {
    throw new DialError(`${options.host}:${options.port}: no answer within ${timeoutMs} ms`, 'ETIMEDOUT')
  })
  timer.catch(() => undefined)
  try {
    return await Promise.race([options.dialer.dial(options.host, options.port), timer])
  } finally {
    stop.abort()
  }
}

/**
 * Runs {@link confirmRouting} and turns a timeout into a warning event. Without a tunnel (a
 * session that lost it for good, undoing) there is nothing to warn about: the undo is done.
 */
export async function confirmOrWarn(
  ctx: Pick<SetupContext, 'emit' | 'log'>,
  service: string,
  options: ConfirmRoutingOptions,
): Promise<void> {
  const verdict = await confirmRouting(options)
  if (verdict === 'confirmed') return
  if (verdict === 'no-tunnel') {
    ctx.log.info('No tunnel left to confirm routing through', { service, want: options.want })
    return
  }
  const what = options.want === 'shadow' ? 'reach the shadow pod' : 'stop reaching the shadow pod'
  ctx.emit({
    type: 'warning',
    message: `could not confirm within ${Math.round(options.timeoutMs / 1000)}s that connections to Service ${service} ${what} (the node may not route a pod's connections back to itself); it may take a moment`,
  })
}
