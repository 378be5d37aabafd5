import type { Server, Socket } from 'node:net'

import { HostError } from '../errors.js'

/** Where a server ended up listening. */
export interface BoundAddress {
  readonly host: string
  readonly port: number
}

/**
 * Listens and resolves with the bound address (so port 0 reports the real port).
 * @throws HostError `KTX_LISTEN_FAILED` naming the address (in use, not permitted).
 */
export function listen(server: Server, host: string, port: number, what: string): Promise<BoundAddress> {
  return new Promise<BoundAddress>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new HostError(
          'KTX_LISTEN_FAILED',
          `Cannot listen for the ${what} on ${host}:${port}: ${error.code ?? error.message}`,
          {
            cause: error,
            suggestions: [`Pick another port for the ${what}, or 0 to let the system choose.`],
          },
        ),
      )
    }
    server.once('error', onError)
    server.listen({ host, port }, () => {
      server.removeListener('error', onError)
      const address = server.address()
      resolve({ host, port: typeof address === 'object' && address ? address.port : port })
    })
  })
}

/** Keeps the live sockets of a server so close() can end them instead of waiting forever. */
export class SocketSet {
  readonly #sockets = new Set<Socket>()

  add(socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
  }

  get size(): number {
    return this.#sockets.size
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy()
  }
}

/** Closes the server and every socket it still holds; resolves once the server is closed. */
export function closeServer(server: Server, sockets: SocketSet): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      sockets.destroyAll()
      resolve()
      return
    }
    server.close(() => resolve())
    sockets.destroyAll()
  })
}

/** `host` as it goes in a URL (IPv6 in brackets). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
