import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

import type { AgentLog } from '../log.js'
import { pipeTo } from './raw-fallback.js'

/**
 * An HTTP/1.1 upgrade (WebSocket) or CONNECT: routed once, by its request's headers, then the
 * connection is the upstream's. The request head goes to `target` as it arrived (the handshake's
 * `Upgrade`, `Connection` and `Sec-WebSocket-*` headers are end-to-end for this purpose), followed
 * by whatever the client sent after it; from then on bytes flow both ways untouched.
 */
export function forwardUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: string,
  log: AgentLog,
): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`]
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2)
    lines.push(`${req.rawHeaders[index] ?? ''}: ${req.rawHeaders[index + 1] ?? ''}`)
  // Node's parser reads header bytes as latin1; writing them back the same way is byte-exact.
  const requestHead = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  pipeTo(socket, target, Buffer.concat([requestHead, head]), log, (error) => {
    const body = `ktx router: cannot reach ${target}: ${error.message}\n`
    socket.end(
      `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  })
}
