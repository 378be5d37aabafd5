import { Agent as HttpAgent, type AgentOptions } from 'node:http'
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'

import type { ProxyCredentials } from './proxy-auth.js'
import { socks5Connect } from './socks-client.js'

/** Where the session's SOCKS5 server listens, and the credentials it wants (if any). */
export interface SocksEndpoint {
  readonly host: string
  readonly port: number
  readonly credentials?: ProxyCredentials
}

type Callback = (error: Error | null, socket?: Duplex) => void
interface ConnectOptions {
  host?: string | null
  hostname?: string | null
  port?: number | string | null
}

function target(options: ConnectOptions, defaultPort: number): { host: string; port: number } {
  const host = (options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1')
  const port =
    options.port === undefined || options.port === null || options.port === ''
      ? defaultPort
      : Number(options.port)
  return { host, port }
}

function socksTarget(socks: SocksEndpoint, host: string, port: number): Parameters<typeof socks5Connect>[0] {
  return {
    proxyHost: socks.host,
    proxyPort: socks.port,
    host,
    port,
    ...(socks.credentials ? { credentials: socks.credentials } : {}),
  }
}

/**
 * An `http.Agent` whose connections go through the session (via its SOCKS5 server on loopback,
 * which gives real `net.Socket`s that `http` can keep alive). Pass as `agent` to `http.request`.
 */
export class TunnelHttpAgent extends HttpAgent {
  readonly #socks: SocksEndpoint

  constructor(socks: SocksEndpoint, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options })
    this.#socks = socks
  }

  override createConnection(options: ConnectOptions, callback: Callback): undefined {
    const { host, port } = target(options, 80)
    socks5Connect(socksTarget(this.#socks, host, port)).then(
      (socket) => {
        callback(null, socket)
      },
      (error: unknown) => {
        callback(error as Error)
      },
    )
    return undefined
  }
}

/** The `https.Agent` counterpart of {@link TunnelHttpAgent}: TLS runs end to end over the tunnel. */
export class TunnelHttpsAgent extends HttpsAgent {
  readonly #socks: SocksEndpoint

  constructor(socks: SocksEndpoint, options: HttpsAgentOptions = {}) {
    super({ keepAlive: true, ...options })
    this.#socks = socks
  }

  override createConnection(options: ConnectOptions & ConnectionOptions, callback: Callback): undefined {
    const { host, port } = target(options, 443)
    socks5Connect(socksTarget(this.#socks, host, port)).then(
      (socket) => {
        const secure = tlsConnect({ ...options, socket, servername: options.servername ?? host })
        secure.once('secureConnect', () => {
          callback(null, secure)
        })
        secure.once('error', (error: Error) => {
          callback(error)
        })
      },
      (error: unknown) => {
        callback(error as Error)
      },
    )
    return undefined
  }
}
