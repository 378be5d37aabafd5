import { type Server as HttpServer, createServer as createHttpServer } from 'node:http'
import { type Http2Server, constants as h2, createServer as createH2Server } from 'node:http2'
import { type AddressInfo, createServer as createNetServer } from 'node:net'

import { WebSocketServer } from 'ws'

/**
 * An HTTP/1.1 upstream named `name`: answers every request with JSON naming itself, the request's
 * method, path, body, `version` header and client port (so a test sees which connection carried
 * it), adds a trailer on `/trailer`, and echoes WebSocket messages prefixed with its name.
 */
export async function startHttp1Upstream(
  name: string,
): Promise<{ server: HttpServer; port: number; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      const answer = JSON.stringify({
        upstream: name,
        method: req.method,
        path: req.url,
        body,
        version: req.headers.version,
        clientPort: req.socket.remotePort,
      })
      if (req.url === '/trailer') {
        res.writeHead(200, { 'content-type': 'application/json', trailer: 'x-checksum' })
        res.write(answer)
        res.addTrailers({ 'x-checksum': `sum-of-${name}` })
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name })
      res.end(answer)
    })
  })
  const sockets = new WebSocketServer({ server })
  sockets.on('connection', (socket) => {
    socket.on('message', (data: Buffer, isBinary) => {
      socket.send(isBinary ? data : `${name}:${data.toString()}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const client of sockets.clients) client.terminate()
      sockets.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * An h2c (prior knowledge) upstream named `name`. Plain streams get JSON naming it plus a
 * `x-upstream` trailer. `application/grpc` streams get a gRPC-shaped answer: the request's message
 * echoed in a length-prefixed frame and `grpc-status: 0` in the trailers, or, on path
 * `/test.Echo/Fail`, a trailers-only response with `grpc-status: 5`.
 */
export async function startH2Upstream(
  name: string,
): Promise<{ server: Http2Server; port: number; close(): Promise<void> }> {
  const server = createH2Server()
  const sessions = new Set<import('node:http2').ServerHttp2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      const body = Buffer.concat(chunks)
      if (headers['content-type'] === 'application/grpc') {
        if (headers[':path'] === '/test.Echo/Fail') {
          stream.respond(
            {
              ':status': 200,
              'content-type': 'application/grpc',
              'grpc-status': '5',
              'grpc-message': `not found at ${name}`,
            },
            { endStream: true },
          )
          return
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': name }))
        stream.end(body)
        return
      }
      stream.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true })
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-upstream': name }))
      stream.end(
        JSON.stringify({
          upstream: name,
          path: headers[':path'],
          version: headers.version,
          body: body.toString(),
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const session of sessions) session.destroy(undefined, h2.NGHTTP2_NO_ERROR)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A TCP port nothing listens on right now (bound and released). */
export async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
