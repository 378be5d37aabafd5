import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'

import { joinStreams } from '@ktx/core/pipe'

import type { AgentLog } from '../log.js'
import { hostPort } from './upstream-pool.js'

/**
 * Carries `socket` to `target` byte for byte, sending `head` first (the bytes already read from it:
 * while classifying, or the request head of an upgrade). When the upstream cannot be reached,
 * `onUnreachable` answers the caller (an HTTP 502 for an upgrade); without it the caller's
 * connection is closed, as if the upstream had refused it.
 */
export function pipeTo(
  socket: Duplex,
  target: string,
  head: Buffer,
  log: AgentLog,
  onUnreachable?: (error: Error) => void,
): void {
  const address = hostPort(target)
  const upstream = netConnect({ host: address.host, port: address.port, noDelay: true })
  const unreachable = (error: Error): void => {
    log('debug', 'Upstream connection failed', { target, error: error.message })
    if (onUnreachable) onUnreachable(error)
    else socket.destroy()
  }
  upstream.once('error', unreachable)
  // The caller may leave while the upstream connects.
  const callerGone = (): void => {
    upstream.destroy()
  }
  socket.once('close', callerGone)
  upstream.once('connect', () => {
    upstream.removeListener('error', unreachable)
    socket.removeListener('close', callerGone)
    if (head.length > 0) upstream.write(head)
    joinStreams(socket, upstream)
  })
}
