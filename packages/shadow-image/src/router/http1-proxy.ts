import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
  request as httpRequest,
} from 'node:http'

import type { AgentLog } from '../log.js'
import type { HeaderReader } from './route-table.js'
import { forwardUpgrade } from './upgrade.js'
import { type UpstreamPool, hostPort } from './upstream-pool.js'

/** Picks the upstream `host:port` for a request (or stream) from its headers. */
export type PickTarget = (header: HeaderReader) => string

/**
 * Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus `expect`: the router has
 * already answered `100-continue` itself. Node frames the forwarded body and keeps its own
 * connections alive.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'expect',
])

/** Methods whose request has no body unless it says so; node frames others as chunked by default. */
const BODYLESS_BY_DEFAULT = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'])

/**
 * The HTTP/1.1 side of a router port. Each request is routed on its own (`pick` reads its headers),
 * so two requests on one keep-alive connection may go to different upstreams; the upstream side
 * reuses pooled connections. Upgrades (WebSocket) and CONNECT are routed at their request and then
 * piped. An `Upgrade: h2c` offer is passed on without the upgrade: the server answers in HTTP/1.1,
 * which RFC 9113 allows, and the connection stays routed per request.
 */
export function createHttp1Proxy(pick: PickTarget, pool: UpstreamPool, log: AgentLog): Server {
  const server = createServer(
    {
      noDelay: true,
      // The upstream decides what it accepts; the router only routes.
      requireHostHeader: false,
      // Uploads and long polls take as long as they take.
      requestTimeout: 0,
      // Longer than most clients keep an idle connection, so the client closes first and never
      // sends a request into the router's close of an idle connection.
      keepAliveTimeout: 65_000,
      shouldUpgradeCallback: (req) => req.headers.upgrade?.toLowerCase() !== 'h2c',
    },
    (req, res) => {
      forwardRequest(req, res, pick(readerOf(req)), pool, log)
    },
  )
  const tunnel = (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void => {
    forwardUpgrade(req, socket, head, pick(readerOf(req)), log)
  }
  server.on('upgrade', tunnel)
  server.on('connect', tunnel)
  server.on('clientError', (error, socket) => {
    log('debug', 'Bad HTTP/1.1 request', { error: error.message })
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n')
    else socket.destroy()
  })
  return server
}

function readerOf(req: IncomingMessage): HeaderReader {
  return (name) => req.headersDistinct[name]
}

function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target: string,
  pool: UpstreamPool,
  log: AgentLog,
): void {
  const address = hostPort(target)
  const upstream = httpRequest({
    host: address.host,
    port: address.port,
    method: req.method,
    path: req.url,
    headers: forwardedHeaders(req.rawHeaders, req.headers, req.method ?? 'GET'),
    setHost: false,
    agent: pool.http1Agent(target),
  })
  // Pooled sockets are reused; setting it again on each is a no-op.
  upstream.once('socket', (socket) => socket.setNoDelay(true))
  upstream.on('information', (info) => {
    // 100 Continue was answered locally; 103 Early Hints pass (node can send no other 1xx).
    if (info.statusCode !== 103) return
    try {
      res.writeEarlyHints(objectOf(info.rawHeaders))
    } catch (error) {
      log('debug', 'Early hints not passed on', {
        target,
        error: error instanceof Error ? error.message : String(error),
      })
    }
  })
  upstream.once('response', (answer) => {
    res.writeHead(
      answer.statusCode ?? 502,
      answer.statusMessage,
      withoutHopByHop(answer.rawHeaders, answer.headers),
    )
    answer.pipe(res, { end: false })
    answer.once('end', () => {
      if (answer.rawTrailers.length > 0) res.addTrailers(pairsOf(answer.rawTrailers))
      res.end()
    })
    answer.once('error', () => res.destroy())
  })
  upstream.once('error', (error) => {
    log('debug', 'Upstream request failed', { target, error: error.message })
    if (res.headersSent) {
      res.destroy()
      return
    }
    const body = `ktx router: cannot reach ${target}: ${error.message}\n`
    res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  // The caller went away before the exchange finished: abandon the upstream request too.
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy()
  })
  req.pipe(upstream)
}

function forwardedHeaders(raw: readonly string[], parsed: IncomingHttpHeaders, method: string): string[] {
  const headers = withoutHopByHop(raw, parsed)
  // A request without Content-Length or Transfer-Encoding has no body; say so, or node would send
  // an empty chunked body that some servers refuse.
  const framed = parsed['content-length'] !== undefined || parsed['transfer-encoding'] !== undefined
  if (!framed && !BODYLESS_BY_DEFAULT.has(method)) headers.push('content-length', '0')
  return headers
}

/** The raw header list (name, value, name, value…) without hop-by-hop headers and those `Connection` names. */
function withoutHopByHop(raw: readonly string[], parsed: IncomingHttpHeaders): string[] {
  const named = new Set(
    (parsed.connection ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ''),
  )
  const kept: string[] = []
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] ?? ''
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue
    kept.push(name, raw[index + 1] ?? '')
  }
  return kept
}

function pairsOf(raw: readonly string[]): [string, string][] {
  const pairs: [string, string][] = []
  for (let index = 0; index + 1 < raw.length; index += 2) pairs.push([raw[index] ?? '', raw[index + 1] ?? ''])
  return pairs
}

function objectOf(raw: readonly string[]): Record<string, string | string[]> {
  const object: Record<string, string | string[]> = {}
  for (const [name, value] of pairsOf(raw)) {
    const lower = name.toLowerCase()
    const existing = object[lower]
    object[lower] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
  }
  return object
}
