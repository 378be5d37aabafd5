/**
 * Time limits of the local proxies' client sockets, so a client that stalls cannot hold a socket
 * (and, behind it, an SSH channel) for ever: the handshake must finish within its limit, and a
 * connection with no traffic either way for the idle limit is closed.
 */
import type { Socket } from 'node:net'

/** The proxies' defaults: a handshake is a few bytes; idle allows long-polling and database pools. */
export const PROXY_TIMEOUTS = Object.freeze({ handshakeMs: 10_000, idleMs: 30 * 60_000 })

/** Options every local proxy takes. */
export interface ProxyTimeouts {
  /** The client must finish the SOCKS or HTTP handshake within it. Default 10 s. */
  readonly handshakeTimeoutMs?: number
  /** A connection without traffic in either direction for this long is closed. Default 30 min; 0: never. */
  readonly idleTimeoutMs?: number
}

/**
 * Destroys `socket` when it sees no traffic (read or write) for `ms` (0 turns the limit off).
 * Replaces an earlier limit set by this function.
 */
export function limitInactivity(socket: Socket, ms: number, onCut?: () => void): void {
  socket.removeAllListeners('timeout')
  socket.setTimeout(ms)
  if (ms === 0) return
  socket.once('timeout', () => {
    onCut?.()
    socket.destroy()
  })
}
