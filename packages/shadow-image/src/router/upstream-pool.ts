import { Agent } from 'node:http'
import { type ClientHttp2Session, connect as connectH2 } from 'node:http2'
import { connect as netConnect } from 'node:net'

import { type HostPort, parseHostPort } from '@ktx/core/contract'

import type { AgentLog } from '../log.js'

/** How long an unused HTTP/2 connection to a target stays open. */
const H2_IDLE_MS = 60_000

/**
 * Upstream connections, one pool per target `host:port`: a keep-alive `http.Agent` for HTTP/1.1
 * (and one multiplexed HTTP/2 connection for h2c), so a request does not pay a TCP handshake. Nagle
 * is off on every upstream socket: a proxied request is a few small writes, each of which would
 * otherwise wait for the previous one's delayed ACK.
 */
export class UpstreamPool {
  readonly #log: AgentLog
  readonly #agents = new Map<string, Agent>()
  readonly #sessions = new Map<string, ClientHttp2Session>()

  constructor(log: AgentLog) {
    this.#log = log
  }

  /** The keep-alive agent for `target`. */
  http1Agent(target: string): Agent {
    let agent = this.#agents.get(target)
    if (!agent) {
      agent = new Agent({ keepAlive: true, scheduling: 'lifo' })
      this.#agents.set(target, agent)
    }
    return agent
  }

  /** The HTTP/2 (prior knowledge, cleartext) connection to `target`, opened on first use. */
  h2Session(target: string): ClientHttp2Session {
    const open = this.#sessions.get(target)
    if (open && !open.closed && !open.destroyed) return open
    const address = hostPort(target)
    const session = connectH2(`http://${authority(address)}`, {
      createConnection: () => netConnect({ host: address.host, port: address.port, noDelay: true }),
    })
    this.#sessions.set(target, session)
    const forget = (): void => {
      if (this.#sessions.get(target) === session) this.#sessions.delete(target)
    }
    // A GOAWAY lets the streams in flight finish; new ones must go to a fresh connection.
    session.once('goaway', forget)
    session.once('close', forget)
    session.on('error', (error: Error) => {
      this.#log('debug', 'Upstream HTTP/2 connection failed', { target, error: error.message })
    })
    session.setTimeout(H2_IDLE_MS, () => session.close())
    return session
  }

  /** Drops every pooled connection. */
  close(): void {
    for (const agent of this.#agents.values()) agent.destroy()
    for (const session of this.#sessions.values()) session.destroy()
    this.#agents.clear()
    this.#sessions.clear()
  }
}

/** `host:port` of a target the route table or configuration already validated. */
export function hostPort(target: string): HostPort {
  const address = parseHostPort(target)
  if (!address) throw new Error(`not a host:port target: ${target}`)
  return address
}

function authority({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
