import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

import type { Logger } from '../logger.js'
import { ChannelHttpAgent } from './channel-agent.js'
import { dialErrorCode, type Dialer } from './dialer.js'
import { PROXY_TIMEOUTS, type ProxyTimeouts, limitInactivity } from './idle.js'
import { type BoundAddress, SocketSet, closeServer, listen, urlHost } from './listener.js'
import { joinStreams } from './pipe.js'
import { type ProxyCredentials, acceptsBasic } from './proxy-auth.js'

/** Options of {@link startHttpProxy}. */
export interface HttpProxyOptions extends ProxyTimeouts {
  readonly dialer: Dialer
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 0 (any free port). */
  readonly port?: number
  /** Require these as `Proxy-Authorization: Basic` (407 otherwise); without, no auth. */
  readonly credentials?: ProxyCredentials
  readonly logger: Logger
}

/** A running HTTP proxy. Needs {@link HttpProxyServer.close}. */
export interface HttpProxyServer extends BoundAddress, AsyncDisposable {
  /** `http://host:port`, for `HTTP_PROXY` / `HTTPS_PROXY`. */
  readonly url: string
  readonly connections: number
  /** The credentials it requires, if any. */
  readonly credentials?: ProxyCredentials
  close(): Promise<void>
}

// Headers that describe one hop and must not be forwarded (RFC 9110 §7.6.1), plus proxy-only ones;
// the headers a message's own `Connection:` names are hop-by-hop too (see hopByHopOf).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * Starts an HTTP proxy: `CONNECT host:port` tunnels (any protocol, HTTPS included) and plain
 * absolute-URI requests (`GET http://svc.ns/…`), both through `dial()`, so host names resolve in
 * the cluster; absolute-URI requests to one target reuse kept-alive channels (ChannelHttpAgent).
 * Dial failures answer 502 (504 for timeouts) with the reason. A client must send
 * its request head within `handshakeTimeoutMs`; a connection idle for `idleTimeoutMs` is closed.
 * @throws HostError `KTX_LISTEN_FAILED`.
 */
export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxyServer> {
  const log = options.logger.child({ component: 'http-proxy' })
  const sockets = new SocketSet()
  const handshakeMs = options.handshakeTimeoutMs ?? PROXY_TIMEOUTS.handshakeMs
  const idleMs = options.idleTimeoutMs ?? PROXY_TIMEOUTS.idleMs
  // Absolute-URI requests to one target share kept-alive channels instead of one channel each.
  const upstreams = new ChannelHttpAgent(options.dialer)
  const server = createServer(
    {
      noDelay: true,
      // Node checks these every connectionsCheckingInterval; check often enough to honour them.
      headersTimeout: handshakeMs,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.min(handshakeMs, 1_000),
    },
    (req, res) => {
      if (!authorized(req, options.credentials)) {
        res.writeHead(407, { 'proxy-authenticate': 'Basic realm="ktx"', connection: 'close' })
        res.end('ktx: this proxy needs the credentials ktx printed (Proxy-Authorization: Basic)\n')
        return
      }
      forward(req, res, upstreams, log)
    },
  )
  // No bytes at all yet: headersTimeout only starts with the first byte of a request.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    limitInactivity(socket, handshakeMs)
    socket.once('data', () => {
      limitInactivity(socket, idleMs)
    })
  })
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!authorized(req, options.credentials)) {
      socket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="ktx"\r\nConnection: close\r\n\r\n',
        () => socket.destroy(),
      )
      return
    }
    tunnel(req, socket as Socket, head, options.dialer, log, idleMs)
  })
  server.on('clientError', (_error, socket: Duplex) => {
    socket.destroy()
  })
  const bound = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0, 'HTTP proxy')
  const close = (): Promise<void> => {
    server.closeAllConnections()
    upstreams.destroy()
    return closeServer(server, sockets)
  }
  return {
    ...bound,
    url: `http://${urlHost(bound.host)}:${bound.port}`,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    get connections() {
      return sockets.size
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

function authorized(req: IncomingMessage, credentials: ProxyCredentials | undefined): boolean {
  return credentials === undefined || acceptsBasic(req.headers['proxy-authorization'], credentials)
}

/** Splits `host:port` / `[v6]:port` (the CONNECT authority form). */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority)
  if (!match) return undefined
  const port = Number(match[3])
  if (port < 1 || port > 65_535) return undefined
  return { host: match[1] ?? match[2] ?? '', port }
}

/** The headers that must not pass this hop: the fixed set and those `Connection:` names. */
export function hopByHopOf(headers: IncomingMessage['headers']): Set<string> {
  const named = [headers.connection ?? []].flat().flatMap((value) => value.split(','))
  return new Set([...HOP_BY_HOP, ...named.map((name) => name.trim().toLowerCase()).filter((n) => n !== '')])
}

function tunnel(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  dialer: Dialer,
  log: Logger,
  idleMs: number,
): void {
  socket.on('error', () => undefined)
  const target = parseAuthority(req.url ?? '')
  if (!target) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', () => socket.destroy())
    return
  }
  socket.pause()
  dialer.dial(target.host, target.port).then(
    (upstream) => {
      if (socket.destroyed) {
        upstream.destroy()
        return
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      limitInactivity(socket, idleMs, () => {
        log.debug('CONNECT tunnel idle; closed', { target: req.url, idleMs })
      })
      joinStreams(socket, upstream)
      socket.resume()
    },
    (error: unknown) => {
      const { status, text } = failure(error)
      log.debug('CONNECT failed', { target: req.url, status })
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nktx: ${reason(error)}\n`,
        () => socket.destroy(),
      )
    },
  )
}

function forward(req: IncomingMessage, res: ServerResponse, upstreams: ChannelHttpAgent, log: Logger): void {
  let url: URL
  try {
    url = new URL(req.url ?? '')
  } catch {
    respond(res, 400, 'This is a proxy: send absolute-URI requests or CONNECT.')
    return
  }
  if (url.protocol !== 'http:') {
    respond(res, 400, `Only http: URLs can be proxied without CONNECT, got ${url.protocol}`)
    return
  }
  const headers: Record<string, string | string[]> = {}
  const hop = hopByHopOf(req.headers)
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !hop.has(name)) headers[name] = value
  }
  const outgoing = httpRequest({
    method: req.method ?? 'GET',
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 80 : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers,
    agent: upstreams,
  })
  outgoing.on('response', (response) => {
    const back: Record<string, string | string[]> = {}
    const hopBack = hopByHopOf(response.headers)
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined && !hopBack.has(name)) back[name] = value
    }
    res.writeHead(response.statusCode ?? 502, response.statusMessage, back)
    response.pipe(res)
  })
  outgoing.on('error', (error) => {
    log.debug('Forwarded request failed', { url: url.href, error: error.message })
    if (!res.headersSent) {
      const { status } = failure(error)
      respond(res, status, reason(error))
    } else res.destroy()
  })
  // The client went away mid-request: its upstream channel cannot be reused.
  res.on('close', () => {
    if (!res.writableFinished) outgoing.destroy()
  })
  req.pipe(outgoing)
}

function respond(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' })
  res.end(`ktx: ${message}\n`)
}

function failure(error: unknown): { status: number; text: string } {
  return dialErrorCode(error) === 'ETIMEDOUT'
    ? { status: 504, text: 'Gateway Timeout' }
    : { status: 502, text: 'Bad Gateway' }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
