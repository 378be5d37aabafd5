import { type Socket, createServer } from 'node:net'

import type { Logger } from '../logger.js'
import { dialErrorCode, type Dialer } from './dialer.js'
import { PROXY_TIMEOUTS, type ProxyTimeouts, limitInactivity } from './idle.js'
import { type BoundAddress, SocketSet, closeServer, listen, urlHost } from './listener.js'
import { joinStreams } from './pipe.js'
import { type ProxyCredentials, credentialsMatch } from './proxy-auth.js'
import {
  METHOD_NONE_ACCEPTABLE,
  METHOD_NO_AUTH,
  METHOD_USER_PASS,
  USER_PASS_VERSION,
  Reply,
  SOCKS_VERSION,
  encodeReply,
  parseGreeting,
  parseRequest,
  parseUserPass,
  replyForError,
} from './socks5-protocol.js'

/** Options of {@link startSocks5}. */
export interface Socks5Options extends ProxyTimeouts {
  readonly dialer: Dialer
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 0 (any free port; see {@link Socks5Server.port}). */
  readonly port?: number
  /** Require these (RFC 1929 username/password); without, no auth. */
  readonly credentials?: ProxyCredentials
  readonly logger: Logger
}

/** A running SOCKS5 server. Needs {@link Socks5Server.close}. */
export interface Socks5Server extends BoundAddress, AsyncDisposable {
  /** `socks5h://host:port`: the `h` says names are resolved by the proxy (in the cluster). */
  readonly url: string
  /** Client connections currently open. */
  readonly connections: number
  /** The credentials it requires, if any. */
  readonly credentials?: ProxyCredentials
  /** Stops listening and closes every open connection. */
  close(): Promise<void>
}

/**
 * Starts a SOCKS5 server (CONNECT; no auth, or RFC 1929 username/password with `credentials`). Each CONNECT becomes one `dial()` (an SSH channel), with
 * the target name passed on unresolved so the cluster's DNS and search path apply. Failed dials get
 * the matching reply code (refused 5, unknown host 4, …). A client that does not finish the
 * handshake within `handshakeTimeoutMs`, or whose connection is idle for `idleTimeoutMs`, is cut.
 * @throws HostError `KTX_LISTEN_FAILED`.
 */
export async function startSocks5(options: Socks5Options): Promise<Socks5Server> {
  const log = options.logger.child({ component: 'socks5' })
  const sockets = new SocketSet()
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    handle(socket, options, log)
  })
  const bound = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0, 'SOCKS5 proxy')
  const close = (): Promise<void> => closeServer(server, sockets)
  return {
    ...bound,
    url: `socks5h://${urlHost(bound.host)}:${bound.port}`,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    get connections() {
      return sockets.size
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

// Reads the greeting and request from the socket as they arrive, then hands the socket to the tunnel.
function handle(socket: Socket, options: Socks5Options, log: Logger): void {
  const dialer = options.dialer
  const idleMs = options.idleTimeoutMs ?? PROXY_TIMEOUTS.idleMs
  limitInactivity(socket, options.handshakeTimeoutMs ?? PROXY_TIMEOUTS.handshakeMs, () => {
    log.debug('SOCKS client did not finish its handshake in time; closed')
  })
  let buffer = Buffer.alloc(0)
  let stage: 'greeting' | 'auth' | 'request' | 'connecting' = 'greeting'
  const { credentials } = options
  const method = credentials ? METHOD_USER_PASS : METHOD_NO_AUTH
  socket.on('error', (error) => {
    log.debug('SOCKS client socket error', { error: error.message })
  })
  const onData = (chunk: Buffer): void => {
    buffer = Buffer.concat([buffer, chunk])
    if (stage === 'greeting') {
      const greeting = parseGreeting(buffer)
      if (greeting.kind === 'incomplete') return
      if (greeting.kind === 'invalid' || !greeting.methods.includes(method)) {
        if (credentials) log.debug('SOCKS client did not offer username/password; refused')
        refuse(socket, Buffer.from([SOCKS_VERSION, METHOD_NONE_ACCEPTABLE]))
        return
      }
      socket.write(Buffer.from([SOCKS_VERSION, method]))
      buffer = buffer.subarray(greeting.consumed)
      stage = credentials ? 'auth' : 'request'
    }
    if (stage === 'auth' && credentials) {
      const offered = parseUserPass(buffer)
      if (offered.kind === 'incomplete') return
      if (offered.kind === 'invalid' || !credentialsMatch(credentials, offered.username, offered.password)) {
        log.debug('SOCKS client gave wrong credentials; refused')
        refuse(socket, Buffer.from([USER_PASS_VERSION, 1]))
        return
      }
      socket.write(Buffer.from([USER_PASS_VERSION, 0]))
      buffer = buffer.subarray(offered.consumed)
      stage = 'request'
    }
    if (stage === 'request') {
      const request = parseRequest(buffer)
      if (request.kind === 'incomplete') return
      if (request.kind === 'invalid') {
        refuse(socket, encodeReply(request.reply ?? Reply.generalFailure))
        return
      }
      stage = 'connecting'
      socket.removeListener('data', onData)
      socket.pause()
      const rest = buffer.subarray(request.consumed)
      connect(socket, dialer, request.host, request.port, rest, log, idleMs)
    }
  }
  socket.on('data', onData)
}

function connect(
  socket: Socket,
  dialer: Dialer,
  host: string,
  port: number,
  rest: Buffer,
  log: Logger,
  idleMs: number,
): void {
  dialer.dial(host, port).then(
    (upstream) => {
      if (socket.destroyed) {
        upstream.destroy()
        return
      }
      socket.write(encodeReply(Reply.succeeded))
      if (rest.length > 0) upstream.write(rest)
      // Destroying the client socket ends the join, which destroys the upstream too.
      limitInactivity(socket, idleMs, () => {
        log.debug('SOCKS connection idle; closed', { host, port, idleMs })
      })
      joinStreams(socket, upstream)
      socket.resume()
    },
    (error: unknown) => {
      const code = dialErrorCode(error)
      log.debug('SOCKS connect failed', { host, port, code })
      if (!socket.destroyed) refuse(socket, encodeReply(replyForError(code)))
    },
  )
}

// The socket allows half-open; after a refusal nothing more can happen on it, so do not wait for
// the client's FIN.
function refuse(socket: Socket, reply: Buffer): void {
  socket.end(reply, () => socket.destroy())
}
