/**
 * The local DNS server (dns2), on UDP and TCP at the same address and port. It only moves
 * messages; what to answer is the handler's business (see `forwarder.ts`).
 */
import { createTCPServer, createUDPServer, type TCPServer, type UDPServer } from 'dns2'
import type { Socket } from 'node:net'

import { HostError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { DnsRequestHandler } from './forwarder.js'
import { Packet, RCODE, errorResponse } from './wire.js'

/** Options of {@link startDnsServer}. */
export interface DnsServerOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 0: a free port, the same for UDP and TCP (see {@link DnsServer.port}). */
  readonly port?: number
  readonly handle: DnsRequestHandler
  readonly logger: Logger
}

/** A running DNS server. Needs {@link DnsServer.close}. */
export interface DnsServer extends AsyncDisposable {
  readonly host: string
  /** UDP and TCP port. */
  readonly port: number
  /** Stops both listeners and drops open TCP connections. */
  close(): Promise<void>
}

/**
 * Starts the server and resolves once both listeners are bound.
 * @throws HostError `KTX_LISTEN_FAILED` naming the address (in use, not permitted: port 53 needs root).
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1'
  const log = options.logger.child({ component: 'dns-server' })
  const onRequest = (request: Packet, send: (response: Packet) => Promise<Buffer>): void => {
    options
      .handle(request)
      .catch((error: unknown) => {
        log.warn('DNS handler failed', { error: messageOf(error) })
        return errorResponse(request, RCODE.SERVFAIL)
      })
      .then(send)
      .catch((error: unknown) => {
        log.debug('Could not send a DNS answer', { error: messageOf(error) })
      })
  }
  // Port 0 must give UDP and TCP the same port: take UDP's, and try again if TCP finds it taken.
  for (let attempt = 0; ; attempt += 1) {
    const udp = createUDPServer({ type: host.includes(':') ? 'udp6' : 'udp4' })
    udp.on('request', onRequest)
    udp.on('requestError', (error: Error) => log.debug('Bad DNS request (UDP)', { error: error.message }))
    const port = await bindUdp(udp, host, options.port ?? 0)
    const tcp = createTCPServer()
    tcp.on('request', onRequest)
    tcp.on('requestError', (error: Error) => log.debug('Bad DNS request (TCP)', { error: error.message }))
    const sockets = new Set<Socket>()
    tcp.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.setNoDelay(true)
      socket.once('close', () => sockets.delete(socket))
    })
    try {
      await bindTcp(tcp, host, port)
    } catch (error) {
      udp.close()
      if ((options.port ?? 0) === 0 && attempt < 5 && (error as HostError).data.errno === 'EADDRINUSE')
        continue
      throw error
    }
    let closing: Promise<void> | undefined
    const close = (): Promise<void> => {
      closing ??= Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => {
          tcp.close(() => resolve())
          for (const socket of sockets) socket.destroy()
        }),
      ]).then(() => undefined)
      return closing
    }
    log.debug('DNS server listening', { host, port })
    return { host, port, close, [Symbol.asyncDispose]: close }
  }
}

function listenError(host: string, port: number, error: NodeJS.ErrnoException): HostError {
  const needsRoot = error.code === 'EACCES' && port < 1024
  return new HostError(
    'KTX_LISTEN_FAILED',
    `Cannot listen for DNS on ${host}:${port}: ${error.code ?? error.message}`,
    {
      cause: error,
      data: { errno: error.code },
      suggestions: needsRoot
        ? ['Port 53 needs root; run ktx connect with sudo (TUN mode needs it anyway).']
        : [
            `Something else serves DNS on ${host}:${port} (another ktx session?); stop it, or use --dnsMode hosts.`,
          ],
    },
  )
}

function bindUdp(udp: UDPServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(listenError(host, port, error))
    }
    udp.once('error', onError)
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.removeListener('error', onError)
      resolve(udp.address().port)
    })
  })
}

function bindTcp(tcp: TCPServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(listenError(host, port, error))
    }
    tcp.once('error', onError)
    tcp.listen({ host, port, exclusive: true }, () => {
      tcp.removeListener('error', onError)
      resolve()
    })
  })
}
