import type { Duplex } from 'node:stream'

import { errorCodeOfOpenFailure } from '../contract.js'
import { messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { DialError, type Dialer } from './dialer.js'
import { FramedStream } from './direct-framing.js'
import {
  type DirectReply,
  encodeRequest,
  parseHello,
  parseReply,
  readPrefix,
  signedPayload,
} from './direct-protocol.js'

/** Options of {@link createDirectDialer}. */
export interface DirectDialerOptions {
  /** Opens a new transport to the agent's direct port (a port-forward). */
  readonly open: () => Promise<Duplex>
  /** Signs with the session key. */
  readonly sign: (data: Buffer) => Buffer
  /** Used when the direct path cannot carry a dial (its port-forward failed); the SSH connection. */
  readonly fallback: Dialer
  /** Connections kept open and greeted ahead of use, so a dial costs one round trip; dials beyond them use `fallback`. */
  readonly spare: number
  /** How long the agent may take to greet or answer. */
  readonly handshakeTimeoutMs: number
  /** At most one new transport per this interval. Default {@link OPEN_INTERVAL_MS}. */
  readonly openIntervalMs?: number
  readonly log: Logger
}

/** A {@link Dialer} over the direct data path. Needs {@link DirectDialer.close}. */
export interface DirectDialer extends Dialer {
  /** Resolves once one connection was greeted by the agent; rejects when the agent has no direct path. */
  readonly proven: Promise<void>
  /** Connections handed out and still open. */
  readonly active: number
  /** Spare connections greeted and waiting. */
  readonly idle: number
  /** Dials made so far: over the direct path, and handed to the fallback. */
  readonly dials: { readonly direct: number; readonly fallback: number }
  /** Drops the spare connections and cuts the active ones. */
  close(): void
}

// A spare connection older than this is replaced: API servers and proxies may drop idle upgrades.
const SPARE_MAX_AGE_MS = 5 * 60_000
// At most one new port-forward per this interval. Opening one costs the API server, the kubelet and
// containerd 16–250 ms of work here (TLS, authorization, a stream into the pod's network
// namespace): opened for every short connection of a burst, that work slowed every connection,
// SSH ones too (new-connection p50 5.4 → 24 ms). Rationed, a burst rides SSH and the connections
// that come one at a time, like downloads, get the direct path.
export const OPEN_INTERVAL_MS = 250

interface Spare {
  readonly transport: Duplex
  readonly nonce: Buffer
  readonly timer: NodeJS.Timeout
}

/**
 * Dials over the direct data path (direct-protocol.ts): each dial takes a greeted spare connection,
 * sends the signed request and waits for the agent's connect result; a new spare is opened behind
 * it. With no spare at hand (a burst of new connections, or the direct path broken) the dial goes
 * over `fallback` instead: a new port-forward takes several round trips through the API server and
 * the kubelet, an SSH channel one. So a burst costs bulk speed for some connections, never time.
 */
export function createDirectDialer(options: DirectDialerOptions): DirectDialer {
  const spares: Spare[] = []
  const active = new Set<Duplex>()
  // Taken from the spares, request sent, reply not yet in: close() must cut these too.
  const asking = new Set<Duplex>()
  let opening = 0
  const dials = { direct: 0, fallback: 0 }
  const viaFallback = (host: string, port: number): Promise<Duplex> => {
    dials.fallback += 1
    return options.fallback.dial(host, port)
  }
  let closed = false
  const openIntervalMs = options.openIntervalMs ?? OPEN_INTERVAL_MS
  // The first transport (below) counts too.
  let nextOpenAt = Date.now() + openIntervalMs
  let refillTimer: NodeJS.Timeout | undefined

  const greet = async (): Promise<Spare> => {
    const transport = await options.open()
    // For the transport's whole life: a port-forward errors (the pod went away) while it waits as
    // a spare or between handshake steps, and an 'error' without a listener would end the process.
    transport.on('error', (error) => {
      options.log.debug('Direct path transport error', { error: error.message })
    })
    try {
      // The agent says nothing more until asked, so nothing follows the hello.
      const { value: nonce } = await readPrefix(transport, parseHello, options.handshakeTimeoutMs)
      const timer = setTimeout(() => {
        drop(transport)
      }, SPARE_MAX_AGE_MS)
      timer.unref()
      return { transport, nonce, timer }
    } catch (error) {
      transport.destroy()
      throw error
    }
  }
  const drop = (transport: Duplex): void => {
    const index = spares.findIndex((spare) => spare.transport === transport)
    const [removed] = index >= 0 ? spares.splice(index, 1) : []
    if (removed) clearTimeout(removed.timer)
    transport.destroy()
  }
  const dropOnClose = new Map<Duplex, () => void>()
  const keep = (spare: Spare): void => {
    if (closed) {
      clearTimeout(spare.timer)
      spare.transport.destroy()
      return
    }
    spares.push(spare)
    const onClose = (): void => {
      dropOnClose.delete(spare.transport)
      drop(spare.transport)
    }
    dropOnClose.set(spare.transport, onClose)
    // A paused stream whose far side ended emits neither 'end' nor 'close'; a port-forward that
    // the server closed ends its writable side, which 'finish' shows.
    spare.transport.once('close', onClose)
    spare.transport.once('finish', onClose)
  }
  const refill = (): void => {
    if (closed || refillTimer !== undefined || spares.length + opening >= options.spare) return
    const wait = nextOpenAt - Date.now()
    if (wait > 0) {
      refillTimer = setTimeout(() => {
        refillTimer = undefined
        refill()
      }, wait)
      refillTimer.unref()
      return
    }
    nextOpenAt = Date.now() + openIntervalMs
    opening += 1
    greet().then(
      (spare) => {
        opening -= 1
        keep(spare)
        refill()
      },
      (error: unknown) => {
        opening -= 1
        options.log.debug('Direct path: a spare connection failed', { error: messageOf(error) })
      },
    )
  }
  const take = (): Spare | undefined => {
    let spare = spares.shift()
    // One that died unnoticed is dropped, not handed out.
    while (spare !== undefined && (spare.transport.destroyed || spare.transport.writableEnded)) {
      drop(spare.transport)
      spare = spares.shift()
    }
    if (spare !== undefined) {
      clearTimeout(spare.timer)
      const onClose = dropOnClose.get(spare.transport)
      if (onClose) {
        spare.transport.off('close', onClose)
        spare.transport.off('finish', onClose)
      }
      dropOnClose.delete(spare.transport)
    }
    refill()
    return spare
  }

  const request = async (spare: Spare, host: string, port: number): Promise<Duplex> => {
    const { transport, nonce } = spare
    asking.add(transport)
    let answer: Awaited<ReturnType<typeof readPrefix<DirectReply>>>
    try {
      transport.write(
        encodeRequest({ signature: options.sign(signedPayload(nonce, host, port)), host, port }),
      )
      answer = await readPrefix(transport, parseReply, options.handshakeTimeoutMs)
    } catch (error) {
      transport.destroy()
      throw error
    } finally {
      asking.delete(transport)
    }
    const { value: reply, rest } = answer
    if (closed) {
      transport.destroy()
      throw new DialError(`${host}:${port}: the direct path closed while connecting`, 'ENOTCONN')
    }
    if (!reply.ok) {
      transport.destroy()
      throw new DialError(`${host}:${port}: ${reply.description}`, errorCodeOfOpenFailure(reply.description))
    }
    const stream = new FramedStream(transport, rest)
    active.add(stream)
    stream.once('close', () => active.delete(stream))
    return stream
  }

  const proven = greet().then(keep)
  proven.then(refill, () => undefined)

  return {
    proven,
    get active() {
      return active.size
    },
    get idle() {
      return spares.length
    },
    get dials() {
      return { ...dials }
    },
    async dial(host, port) {
      if (closed) throw new DialError(`${host}:${port}: the direct path is closed`, 'ENOTCONN')
      // Opening a port-forward costs more than an SSH channel: without a spare, SSH is the fast way.
      const spare = take()
      if (spare === undefined) return viaFallback(host, port)
      try {
        const stream = await request(spare, host, port)
        dials.direct += 1
        return stream
      } catch (error) {
        if (error instanceof DialError) throw error
        // The spare died while it waited (its port-forward dropped): not the target's fault.
        options.log.debug('Direct path dial failed; using SSH', { error: messageOf(error) })
        return viaFallback(host, port)
      }
    },
    close() {
      closed = true
      clearTimeout(refillTimer)
      for (const spare of spares.splice(0)) {
        clearTimeout(spare.timer)
        spare.transport.destroy()
      }
      for (const transport of asking) transport.destroy()
      for (const stream of active) stream.destroy()
    },
  }
}
