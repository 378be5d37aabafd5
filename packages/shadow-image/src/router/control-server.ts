import { type Socket, createServer } from 'node:net'

import {
  ROUTER_MAX_LINE,
  type RouterReply,
  type RouterRequest,
  encodeRouterLine,
  parseRouterRequest,
} from '@ktx/core/contract'

import { closeServer, listen } from '../listen.js'
import type { AgentLog } from '../log.js'
import type { RouteTable } from './route-table.js'

/** The router's control endpoint. */
export interface ControlServer {
  readonly port: number
  /** Control connections open now. */
  readonly connections: number
  /** Stops listening and closes every control connection (their routes go with them). */
  close(): Promise<void>
}

/**
 * Serves the NDJSON control protocol (`@ktx/core/contract`: one request per line, one reply per
 * line, in order) on `host:port`. Each connection owns the routes it added: when it closes, for
 * whatever reason, they are removed, so a session that dies takes its routes with it.
 */
export async function startControlServer(
  table: RouteTable,
  host: string,
  port: number,
  log: AgentLog,
): Promise<ControlServer> {
  const sockets = new Set<Socket>()
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket)
    serveConnection(socket, table, log)
    socket.once('close', () => sockets.delete(socket))
  })
  const boundPort = await listen(server, host, port, log, 'control')
  return {
    port: boundPort,
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

function serveConnection(socket: Socket, table: RouteTable, log: AgentLog): void {
  let pending = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    pending += chunk
    let newline = pending.indexOf('\n')
    while (newline !== -1) {
      const line = pending.slice(0, newline).replace(/\r$/, '')
      pending = pending.slice(newline + 1)
      if (line.trim() !== '') socket.write(encodeRouterLine(answer(line, socket, table, log)))
      newline = pending.indexOf('\n')
    }
    if (pending.length > ROUTER_MAX_LINE) {
      // Nothing valid is this long; without a line end there is no next request to resync on.
      socket.end(encodeRouterLine(badRequest(`line longer than ${ROUTER_MAX_LINE} bytes`)))
      socket.removeAllListeners('data')
    }
  })
  socket.on('error', (error) => {
    log('debug', 'Control connection failed', { error: error.message })
  })
  // At the peer's FIN already, not only at 'close': our own FIN (which ends the peer's wait in
  // close()) then leaves after the routes are gone, so the peer sees them gone once closed.
  const removeRoutes = (): void => {
    const removed = table.removeOwner(socket)
    if (removed > 0) log('info', 'Control connection closed; its routes are removed', { removed })
  }
  socket.once('end', removeRoutes)
  socket.once('close', removeRoutes)
}

function answer(line: string, owner: Socket, table: RouteTable, log: AgentLog): RouterReply {
  const parsed = parseRouterRequest(line)
  if (!parsed.ok) return badRequest(parsed.message)
  return apply(parsed.request, owner, table, log)
}

function apply(request: RouterRequest, owner: Socket, table: RouteTable, log: AgentLog): RouterReply {
  switch (request.op) {
    case 'ping':
      return { ok: true }
    case 'list':
      return { ok: true, routes: table.list() }
    case 'remove': {
      const removed = table.removeSession(request.session)
      log('info', 'Routes removed', { session: request.session, removed })
      return { ok: true }
    }
    case 'add': {
      const { op: _op, ...route } = request
      const outcome = table.add(owner, route)
      if (!outcome.ok) {
        log('info', 'Route refused', { session: route.session, header: route.header, code: outcome.code })
        return outcome
      }
      log('info', 'Route added', { ...route })
      return { ok: true }
    }
  }
}

function badRequest(message: string): RouterReply {
  return { ok: false, code: 'bad-request', message }
}
