import { randomBytes } from 'node:crypto'
import { type Server, type Socket, createServer } from 'node:net'

import { openFailureDescription } from '@ktx/core/contract'
import { FramedStream } from '@ktx/core/direct-framing'
import {
  type DirectReply,
  encodeHello,
  encodeReply,
  parseRequest,
  readPrefix,
  signedPayload,
} from '@ktx/core/direct-protocol'
import { joinStreams as join } from '@ktx/core/pipe'
import type { ParsedKey } from 'ssh2'

import { connectTarget } from './connect-target.js'
import type { AgentLog } from './log.js'

// ktx keeps a few connections open ahead of use; one that never asks for anything is dropped.
const REQUEST_WAIT_MS = 15 * 60_000

/**
 * The direct data path's server (direct-protocol.ts): greets every connection with a fresh nonce,
 * accepts a request only when the session key signed it, connects to the target and then relays
 * framed data. Listens on loopback like SSH: only a port-forward reaches it.
 */
export function createDirectServer(
  allowed: ParsedKey,
  log: AgentLog,
  track: (socket: Socket) => void,
): Server {
  return createServer({ noDelay: true }, (socket) => {
    track(socket)
    socket.on('error', (error) => {
      log('debug', 'direct connection error', { error: error.message })
    })
    const nonce = randomBytes(32)
    socket.write(encodeHello(nonce))
    readPrefix(socket, parseRequest, REQUEST_WAIT_MS).then(
      ({ value: request, rest }) => {
        // ssh2 may hand back an Error instead of false; only a plain true admits.
        const signed: unknown = allowed.verify(
          signedPayload(nonce, request.host, request.port),
          request.signature,
        )
        if (signed !== true) {
          log('warn', 'Direct connection with a bad signature refused')
          refuse(socket, { ok: false, description: 'EACCES the request is not signed by the session key' })
          return
        }
        connectTarget(request.host, request.port, log, track).then(
          (target) => {
            // ktx gave up while the target was connecting: nothing would ever close the target.
            if (socket.destroyed) {
              target.destroy()
              return
            }
            socket.write(encodeReply({ ok: true }))
            join(new FramedStream(socket, rest), target)
          },
          (error: unknown) => {
            const { code, message } = error as NodeJS.ErrnoException
            refuse(socket, { ok: false, description: openFailureDescription(code, message) })
          },
        )
      },
      (error: unknown) => {
        log('debug', 'direct handshake failed', { error: (error as Error).message })
        socket.destroy()
      },
    )
  })
}

function refuse(socket: Socket, reply: DirectReply): void {
  socket.end(encodeReply(reply))
}
