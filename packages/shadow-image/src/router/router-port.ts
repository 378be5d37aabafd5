import { type Socket, createServer } from 'node:net'

import type { RouterPortSpec } from '@ktx/core/contract'

import { closeServer, listen } from '../listen.js'
import type { AgentLog } from '../log.js'
import { classify } from './classify.js'
import { createH2Proxy } from './h2-proxy.js'
import { type PickTarget, createHttp1Proxy } from './http1-proxy.js'
import { pipeTo } from './raw-fallback.js'
import type { RouteTable } from './route-table.js'
import type { UpstreamPool } from './upstream-pool.js'

/**
 * How long a connection may stay silent before it is taken for a protocol where the server speaks
 * first (MySQL, SMTP…) and carried raw to the fallback. HTTP clients send their request at once.
 */
const SNIFF_TIMEOUT_MS = 1_000

/** One routed port. */
export interface RouterPort {
  readonly port: number
  /** Client connections open now. */
  readonly connections: number
  /** Stops listening and drops every connection. */
  close(): Promise<void>
}

/**
 * Listens on `host:spec.port` and classifies each connection by its first bytes: HTTP/1.1 and
 * h2c go to the header-routing proxies, anything else to `spec.fallback` as raw TCP.
 */
export async function startRouterPort(
  spec: RouterPortSpec,
  host: string,
  table: RouteTable,
  pool: UpstreamPool,
  log: AgentLog,
): Promise<RouterPort> {
  const pick: PickTarget = (header) => table.match(spec.port, header) ?? spec.fallback
  const http1 = createHttp1Proxy(pick, pool, log)
  const h2 = createH2Proxy(pick, pool, log)
  const sockets = new Set<Socket>()
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    // Whatever happens later, a reset from the caller must never crash the agent.
    socket.on('error', (error) => {
      log('debug', 'Router client connection failed', { port: spec.port, error: error.message })
    })
    sniff(socket, (protocol, head) => {
      switch (protocol) {
        case 'http1':
          socket.unshift(head)
          http1.emit('connection', socket)
          // The HTTP parser reads the unshifted bytes once the socket flows again.
          socket.resume()
          return
        case 'h2':
          socket.unshift(head)
          // The HTTP/2 session reads what the socket has buffered itself.
          h2.emit('connection', socket)
          return
        case 'raw':
          pipeTo(socket, spec.fallback, head, log)
          return
      }
    })
  })
  const port = await listen(server, host, spec.port, log, 'router')
  log('info', 'Router listening', { port, fallback: spec.fallback })
  return {
    port,
    get connections() {
      return sockets.size
    },
    async close() {
      const closed = closeServer(server)
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

/** Reads until {@link classify} decides (or the caller stays silent), then hands the bytes over paused. */
function sniff(socket: Socket, decided: (protocol: 'http1' | 'h2' | 'raw', head: Buffer) => void): void {
  let head: Buffer = Buffer.alloc(0)
  const finish = (protocol: 'http1' | 'h2' | 'raw'): void => {
    clearTimeout(timer)
    socket.removeListener('data', onData)
    socket.removeListener('end', onEnd)
    socket.pause()
    decided(protocol, head)
  }
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
    const protocol = classify(head)
    if (protocol !== undefined) finish(protocol)
  }
  // A caller that sends a little and half-closes still reaches the fallback with its bytes.
  const onEnd = (): void => {
    finish('raw')
  }
  const timer = setTimeout(() => {
    finish('raw')
  }, SNIFF_TIMEOUT_MS)
  socket.on('data', onData)
  socket.once('end', onEnd)
}
