import type { Duplex } from 'node:stream'

import { Client, type ClientChannel, type TcpConnectionDetails } from 'ssh2'

import { errorCodeOfOpenFailure } from '../contract.js'
import { TunnelError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { DialError, type Dialer } from './dialer.js'

/** Options of {@link openSsh}. */
export interface OpenSshOptions {
  /** The transport: a port-forward stream, or a TCP socket in tests. */
  readonly sock: Duplex
  readonly username: string
  /** OpenSSH private key (kept in memory only). */
  readonly privateKey: string
  /** Handshake + auth must finish within this. */
  readonly readyTimeoutMs: number
  /** SSH keepalive interval; three missed answers close the connection. Default 10 000. */
  readonly keepaliveIntervalMs?: number
  readonly signal?: AbortSignal
  readonly logger: Logger
}

/** An incoming connection on a remote (`tcpip-forward`) listener. */
export type ReverseConnectionHandler = (
  details: TcpConnectionDetails,
  accept: () => ClientChannel,
  reject: () => void,
) => void

/**
 * The session's one SSH connection. Every outbound TCP flow is a `direct-tcpip` channel on it;
 * inbound flows come back as `forwarded-tcpip` channels. Needs {@link SshConnection.close}.
 */
export interface SshConnection extends Dialer, AsyncDisposable {
  /** Settles when the connection is gone: `undefined` after close(), the error otherwise. */
  readonly ended: Promise<Error | undefined>
  /**
   * Asks the agent to listen on `bindAddress:port` in the pod (port 0: any) and returns the bound
   * port. Connections arrive at `onConnection` (one handler per connection).
   */
  forwardIn(bindAddress: string, port: number, onConnection: ReverseConnectionHandler): Promise<number>
  /** Stops a remote listener. */
  unforwardIn(bindAddress: string, port: number): Promise<void>
  /** Ends the connection and waits for the transport to close. */
  close(): Promise<void>
  /** Tears the connection down at once. */
  destroy(): void
}

/**
 * Runs the SSH handshake over `sock` with key auth. Nagle is switched off
 * (`setNoDelay`): with it on, every new channel waited ~40 ms for a delayed ACK.
 * The host key is not pinned: the transport is already an authenticated API-server port-forward to
 * a pod this session created, and the agent's host key is ephemeral.
 * @throws TunnelError `KTX_SSH_HANDSHAKE` (auth refused, timeout, transport failure) or `signal.reason`.
 */
export async function openSsh(options: OpenSshOptions): Promise<SshConnection> {
  const client = new Client()
  const lifecycle = trackLifecycle(client, options.logger.child({ component: 'ssh' }))
  const reverse = routeReverseConnections(client)
  const connection = connectionOver(client, options.sock, lifecycle, reverse)
  await handshake(client, options, connection)
  return connection
}

interface Lifecycle {
  readonly ended: Promise<Error | undefined>
  /** The transport is gone: new channels would never be answered. */
  readonly isClosed: () => boolean
  /** What follows is our own doing: `ended` settles with `undefined`. */
  readonly markClosing: () => void
}

// `ended` settles once, on 'close': with the last error seen unless we closed it ourselves.
function trackLifecycle(client: Client, log: Logger): Lifecycle {
  let closing = false
  let closed = false
  let lastError: Error | undefined
  let resolveEnded: (error: Error | undefined) => void = () => undefined
  const ended = new Promise<Error | undefined>((resolve) => (resolveEnded = resolve))
  client.on('error', (error) => {
    lastError = error
    log.debug('SSH error', { error: error.message })
  })
  client.on('close', () => {
    closed = true
    resolveEnded(closing ? undefined : lostError(lastError))
  })
  return { ended, isClosed: () => closed, markClosing: () => (closing = true) }
}

function lostError(lastError: Error | undefined): TunnelError {
  return new TunnelError(
    'KTX_SSH_LOST',
    `SSH connection to the shadow pod closed${lastError ? `: ${lastError.message}` : ''}`,
    {
      cause: lastError,
      suggestions: ['The shadow pod or the port-forward went away; run the command again.'],
    },
  )
}

// Remote listeners by `address:port`, with `*:port` for agents that report another bind address.
type ReverseRoutes = Map<string, ReverseConnectionHandler>

function routeReverseConnections(client: Client): ReverseRoutes {
  const routes: ReverseRoutes = new Map()
  client.on('tcp connection', (details, accept, reject) => {
    const handler = routes.get(`${details.destIP}:${details.destPort}`) ?? routes.get(`*:${details.destPort}`)
    if (handler) handler(details, accept, reject)
    else reject()
  })
  return routes
}

function connectionOver(
  client: Client,
  sock: Duplex,
  lifecycle: Lifecycle,
  reverse: ReverseRoutes,
): SshConnection {
  const connection: SshConnection = {
    ended: lifecycle.ended,
    dial: (host, port) => dialOut(client, lifecycle, host, port),
    forwardIn(bindAddress, port, onConnection) {
      return new Promise<number>((resolve, reject) => {
        client.forwardIn(bindAddress, port, (error, bound) => {
          if (error) {
            reject(
              new TunnelError(
                'KTX_SSH_LOST',
                `Remote listen on ${bindAddress}:${port} refused: ${error.message}`,
                { cause: error },
              ),
            )
            return
          }
          const actual = port === 0 ? bound : port
          reverse.set(`${bindAddress}:${actual}`, onConnection)
          reverse.set(`*:${actual}`, onConnection)
          resolve(actual)
        })
      })
    },
    unforwardIn(bindAddress, port) {
      return new Promise<void>((resolve, reject) => {
        client.unforwardIn(bindAddress, port, (error) => {
          reverse.delete(`${bindAddress}:${port}`)
          reverse.delete(`*:${port}`)
          if (error) reject(error)
          else resolve()
        })
      })
    },
    async close() {
      lifecycle.markClosing()
      client.end()
      const timer = setTimeout(() => {
        client.destroy()
      }, 2_000)
      timer.unref()
      await lifecycle.ended
      clearTimeout(timer)
    },
    destroy() {
      lifecycle.markClosing()
      client.destroy()
      sock.destroy()
    },
    async [Symbol.asyncDispose]() {
      await connection.close()
    },
  }
  return connection
}

function dialOut(client: Client, lifecycle: Lifecycle, host: string, port: number): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    // ssh2 would queue the open on a dead connection and never call back.
    if (lifecycle.isClosed()) {
      reject(new DialError(`${host}:${port}: the SSH connection is closed`, 'ENOTCONN'))
      return
    }
    client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
      if (error) {
        reject(
          new DialError(`${host}:${port}: ${error.message}`, errorCodeOfOpenFailure(descriptionOf(error)), {
            cause: error,
          }),
        )
        return
      }
      resolve(channel)
    })
  })
}

// Resolves on 'ready'; on an error, a timeout or an abort it destroys the connection and rejects.
function handshake(client: Client, options: OpenSshOptions, connection: SshConnection): Promise<void> {
  const { signal } = options
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      connection.destroy()
      reject(signal?.reason as Error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const fail = (error: unknown): void => {
      signal?.removeEventListener('abort', onAbort)
      connection.destroy()
      reject(
        new TunnelError(
          'KTX_SSH_HANDSHAKE',
          `SSH handshake with the shadow agent failed: ${messageOf(error)}`,
          {
            cause: error,
            suggestions: ['Check that --image is a ktx shadow image of the same version as this ktx.'],
          },
        ),
      )
    }
    client.once('ready', () => {
      signal?.removeEventListener('abort', onAbort)
      client.removeListener('error', fail)
      client.setNoDelay(true)
      resolve()
    })
    client.once('error', fail)
    client.connect({
      sock: options.sock,
      username: options.username,
      privateKey: options.privateKey,
      readyTimeout: options.readyTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: 3,
      hostVerifier: () => true,
    })
  })
}

function descriptionOf(error: Error): string {
  return error.message.replace(/^\(SSH\) Channel open failure: /, '')
}
