import { Agent, type ClientRequestArgs } from 'node:http'
import type { Duplex } from 'node:stream'

import type { Dialer } from './dialer.js'

/** How long an upstream connection may wait unused before it is closed. */
const IDLE_MS = 30_000

/**
 * A keep-alive `http.Agent` whose connections are tunnel channels (`dialer.dial`), so the HTTP
 * proxy reuses one channel for the next absolute-URI request to the same target instead of
 * opening a channel (a round trip to the pod) per request. A channel is no `net.Socket`: the
 * Agent's TCP keep-alive and unref calls are left out, and an idle one is closed after 30 s.
 * Dial failures reach the request's `error` event unchanged (a `DialError` with its code).
 */
export class ChannelHttpAgent extends Agent {
  readonly #dialer: Dialer
  readonly #idle = new WeakMap<Duplex, NodeJS.Timeout>()

  constructor(dialer: Dialer) {
    super({ keepAlive: true })
    this.#dialer = dialer
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): undefined {
    const host = (options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1')
    this.#dialer.dial(host, Number(options.port ?? 80)).then(
      (channel) => {
        callback?.(null, channel)
      },
      (error: unknown) => {
        callback?.(error as Error, undefined as never)
      },
    )
    return undefined
  }

  override keepSocketAlive(socket: Duplex): boolean {
    if (socket.destroyed) return false
    const timer = setTimeout(() => socket.destroy(), IDLE_MS)
    timer.unref()
    this.#idle.set(socket, timer)
    return true
  }

  // The Agent attaches the socket to the request itself; a channel has no ref() to call.
  override reuseSocket(socket: Duplex): void {
    clearTimeout(this.#idle.get(socket))
    this.#idle.delete(socket)
  }
}
