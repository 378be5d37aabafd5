import { type Server, type Socket, createServer } from 'node:net'

import type { Connection, TcpipBindInfo } from 'ssh2'

import { joinInbound } from './inbound-join.js'
import { listen } from './listen.js'
import type { AgentLog } from './log.js'

/**
 * The `tcpip-forward` side of one SSH connection: listeners in the pod whose connections are
 * carried back to the client as `forwarded-tcpip` channels. All listeners close with the connection.
 */
export class RemoteForwards {
  readonly #client: Connection
  readonly #log: AgentLog
  readonly #track: (socket: Socket) => void
  readonly #servers = new Map<string, Server>()

  constructor(client: Connection, log: AgentLog, track: (socket: Socket) => void) {
    this.#client = client
    this.#log = log
    this.#track = track
  }

  /** Handles `tcpip-forward`: binds (port 0 = any) and answers with the bound port. */
  listen(
    info: TcpipBindInfo,
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
  ): void {
    const host = info.bindAddr === '' || info.bindAddr === 'localhost' ? '0.0.0.0' : info.bindAddr
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#carry(socket, info.bindAddr, boundPort())
    })
    const boundPort = (): number => {
      const address = server.address()
      return typeof address === 'object' && address ? address.port : info.bindPort
    }
    listen(server, host, info.bindPort, this.#log, 'remote forward').then(
      (port) => {
        this.#servers.set(key(info.bindAddr, info.bindPort === 0 ? port : info.bindPort), server)
        this.#log('info', 'Remote forward listening', { host, port })
        accept?.(info.bindPort === 0 ? port : undefined)
      },
      (error: unknown) => {
        this.#log('warn', 'tcpip-forward listen failed', {
          host,
          port: info.bindPort,
          code: (error as NodeJS.ErrnoException).code,
        })
        reject?.()
      },
    )
  }

  /** Handles `cancel-tcpip-forward`. */
  cancel(info: TcpipBindInfo, accept: (() => void) | undefined, reject: (() => void) | undefined): void {
    const server = this.#servers.get(key(info.bindAddr, info.bindPort))
    if (!server) {
      reject?.()
      return
    }
    this.#servers.delete(key(info.bindAddr, info.bindPort))
    server.close()
    accept?.()
  }

  /** Closes every listener (the SSH connection ended). */
  closeAll(): void {
    for (const server of this.#servers.values()) server.close()
    this.#servers.clear()
  }

  #carry(socket: Socket, bindAddr: string, bindPort: number): void {
    this.#track(socket)
    socket.setNoDelay(true)
    // Callers that vanish without a FIN (a deleted pod, a dropped node) are found and closed.
    socket.setKeepAlive(true, 30_000)
    socket.pause()
    // A reset from the caller (even before the channel is open) must never crash the agent.
    socket.on('error', (error) => {
      this.#log('debug', 'Inbound connection failed', { error: error.message })
    })
    const remote = socket.remoteAddress ?? '0.0.0.0'
    this.#client.forwardOut(bindAddr, bindPort, remote, socket.remotePort ?? 0, (error, channel) => {
      if (error) {
        this.#log('debug', 'forwarded-tcpip refused by the client', { error: error.message })
        // Nothing listens on the laptop side: the caller gets a reset, as from a closed port.
        if (!socket.destroyed) socket.resetAndDestroy()
        return
      }
      if (socket.destroyed) {
        // The caller left while the channel was being opened; nothing would ever close it.
        channel.close()
        return
      }
      joinInbound(channel, socket)
      socket.resume()
    })
  }
}

function key(address: string, port: number): string {
  return `${address}:${port}`
}
