import {
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Http2Server,
  type ServerHttp2Stream,
  constants,
  createServer,
} from 'node:http2'

import type { AgentLog } from '../log.js'
import type { PickTarget } from './http1-proxy.js'
import type { UpstreamPool } from './upstream-pool.js'

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = constants

/**
 * The HTTP/2 cleartext side of a router port (prior knowledge: gRPC, `curl --http2-prior-knowledge`).
 * Every stream is routed on its own headers and becomes a stream on the pooled connection to its
 * upstream. Headers, data, 1xx and trailers pass through in both directions (gRPC's status travels
 * in the response trailers); a reset on either side resets the other.
 */
export function createH2Proxy(pick: PickTarget, pool: UpstreamPool, log: AgentLog): Http2Server {
  const server = createServer()
  server.on('stream', (stream, headers, flags) => {
    forwardStream(stream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0, pick, pool, log)
  })
  server.on('sessionError', (error) => {
    log('debug', 'HTTP/2 client connection failed', { error: error.message })
  })
  return server
}

function forwardStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  requestEnded: boolean,
  pick: PickTarget,
  pool: UpstreamPool,
  log: AgentLog,
): void {
  const target = pick((name) => headers[name])
  stream.on('error', (error) => {
    log('debug', 'HTTP/2 client stream failed', { target, error: error.message })
  })
  let upstream: ClientHttp2Stream
  try {
    upstream = pool.h2Session(target).request(plainHeaders(headers), {
      endStream: requestEnded,
      waitForTrailers: !requestEnded,
    })
  } catch (error) {
    // A session that closed between the pool's check and this request.
    failStream(stream, target, error instanceof Error ? error : new Error(String(error)))
    return
  }
  let requestTrailers: OutgoingHttpHeaders = {}
  let responseTrailers: OutgoingHttpHeaders = {}
  stream.once('trailers', (trailers: IncomingHttpHeaders) => (requestTrailers = plainHeaders(trailers)))
  upstream.once('wantTrailers', () => upstream.sendTrailers(requestTrailers))
  upstream.once('trailers', (trailers: IncomingHttpHeaders) => (responseTrailers = plainHeaders(trailers)))
  stream.once('wantTrailers', () => stream.sendTrailers(responseTrailers))

  upstream.on('headers', (informational) => {
    if (!stream.closed && !stream.headersSent) stream.additionalHeaders(plainHeaders(informational))
  })
  upstream.once('response', (responseHeaders, flags) => {
    if (stream.closed) return
    const responseEnded = (flags & NGHTTP2_FLAG_END_STREAM) !== 0
    try {
      // A trailers-only response (a gRPC error) is one HEADERS frame that ends the stream.
      stream.respond(plainHeaders(responseHeaders), {
        endStream: responseEnded,
        waitForTrailers: !responseEnded,
      })
    } catch (error) {
      // Headers node will not send on (it validates them); the stream cannot go on.
      log('debug', 'Upstream response not passed on', {
        target,
        error: error instanceof Error ? error.message : String(error),
      })
      stream.close(NGHTTP2_INTERNAL_ERROR)
      upstream.close(NGHTTP2_CANCEL)
      return
    }
    if (!responseEnded) upstream.pipe(stream)
  })
  upstream.on('error', (error: Error) => {
    log('debug', 'Upstream HTTP/2 stream failed', { target, error: error.message })
  })
  upstream.once('close', () => {
    if (stream.closed) return
    if (!stream.headersSent) failStream(stream, target, new Error(`stream reset (code ${upstream.rstCode})`))
    else if (upstream.rstCode !== NGHTTP2_NO_ERROR) stream.close(upstream.rstCode)
  })
  stream.once('close', () => {
    // The client reset (or left) before the upstream's answer was complete: stop the upstream too.
    if (upstream.closed || upstream.readableEnded) return
    upstream.close(stream.rstCode === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : stream.rstCode)
  })
  if (!requestEnded) stream.pipe(upstream)
}

/** A 502 for a stream whose upstream could not be reached (or reset before answering). */
function failStream(stream: ServerHttp2Stream, target: string, error: Error): void {
  if (stream.closed) return
  if (stream.headersSent) {
    stream.close(NGHTTP2_INTERNAL_ERROR)
    return
  }
  stream.respond({ ':status': 502, 'content-type': 'text/plain' })
  stream.end(`ktx router: cannot reach ${target}: ${error.message}\n`)
}

/** The string-keyed headers (node adds a symbol for its sensitive-header list). */
function plainHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const plain: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) plain[name] = value
  return plain
}
