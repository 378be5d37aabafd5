import { type Server as HttpServer, createServer as createHttpServer } from 'node:http'
import { type AddressInfo, type Server, Socket, createServer } from 'node:net'

/** A local HTTP server answering every request with `body`. */
export async function startHttpServer(
  body: string,
  host = '127.0.0.1',
): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-seen-url': req.url ?? '' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

/** A TCP echo server that tracks its open sockets. */
export async function startEchoServer(
  host = '127.0.0.1',
): Promise<{ server: Server; port: number; open: Set<Socket> }> {
  const open = new Set<Socket>()
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
    socket.on('error', () => undefined)
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return { server, port: (server.address() as AddressInfo).port, open }
}

/** Resolves true if something accepts TCP connections on host:port, false on ECONNREFUSED. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.connect(port, host)
  })
}

/** Closes a server, dropping its connections. */
export function closeServer(server: Server | HttpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}
