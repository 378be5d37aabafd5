import type { Duplex } from 'node:stream'

import {
  ROUTER_MAX_LINE,
  type RouterReply,
  type RouterRequest,
  type RouterRoute,
  encodeRouterLine,
  parseRouterReply,
} from '../contract.js'
import { ConflictError, TimeoutError, TunnelError } from '../errors.js'

/** Options of {@link openRouterControl}. */
export interface RouterControlOptions {
  /** Each request must be answered within this. Default 10 000. */
  readonly requestTimeoutMs?: number
  /** How long {@link RouterControl.close} waits for the peer before cutting the stream. Default 2 000. */
  readonly closeTimeoutMs?: number
}

/**
 * A control connection to a mesh router (the agent in router mode). The routes it adds live as
 * long as this connection: when it closes, for any reason, the router drops them. Needs
 * {@link RouterControl.close}.
 */
export interface RouterControl extends AsyncDisposable {
  /**
   * Settles when the connection is gone: `undefined` after close(), the error otherwise (the
   * routes this connection added are gone from the router then).
   */
  readonly ended: Promise<Error | undefined>
  /**
   * Routes requests carrying `route.header: route.value` to `route.targets` (router port → host:port).
   * @throws ConflictError `KTX_MESH_MARK_TAKEN` when another session holds the mark (`data.owner`).
   * @throws TunnelError `KTX_ROUTER_REFUSED` (the router refused the request) or `KTX_ROUTER_CONTROL_LOST`.
   */
  add(route: RouterRoute): Promise<void>
  /** Drops every route of `session`. */
  remove(session: string): Promise<void>
  /** The router's routes, every session's. */
  list(): Promise<RouterRoute[]>
  /** A round trip, to check the router answers. */
  ping(): Promise<void>
  /**
   * Removes the routes of every session this connection added, then ends the connection and waits
   * for it to close. The explicit removal matters: the router also drops a connection's routes when
   * it closes, but a port-forward's pod side closes some time after ours, so without it a request
   * right after close() could still be routed.
   */
  close(): Promise<void>
}

interface Pending {
  readonly request: RouterRequest
  readonly resolve: (reply: RouterReply) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout
}

/**
 * Speaks the router's control protocol (`@ktx/core/contract`: NDJSON, one reply per request, in
 * order) over `stream`: a port-forward to the router pod's control port, or a `direct-tcpip` channel
 * to `127.0.0.1:<control port>` on the session's SSH connection to that pod.
 */
export function openRouterControl(stream: Duplex, options: RouterControlOptions = {}): RouterControl {
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const closeTimeoutMs = options.closeTimeoutMs ?? 2_000
  const pending: Pending[] = []
  let buffered = ''
  let closing = false
  /** Sessions whose routes this connection added and has not removed. */
  const added = new Set<string>()
  let failure: Error | undefined
  let resolveEnded: (error: Error | undefined) => void = () => undefined
  const ended = new Promise<Error | undefined>((resolve) => (resolveEnded = resolve))

  const fail = (error: Error): void => {
    failure ??= error
    for (const waiting of pending.splice(0)) {
      clearTimeout(waiting.timer)
      waiting.reject(failure)
    }
    stream.destroy()
  }
  const lost = (why: string, cause?: unknown): TunnelError =>
    new TunnelError('KTX_ROUTER_CONTROL_LOST', `The mesh router's control connection ${why}`, {
      ...(cause === undefined ? {} : { cause }),
      suggestions: [
        'The routes of this session are gone from the router; restart the mesh session.',
        'Check the router pod: kubectl get pods -l app.kubernetes.io/managed-by=ktx',
      ],
    })

  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    buffered += chunk
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      const reply = parseRouterReply(line)
      if (!reply) {
        fail(lost(`sent a line that is not a reply: ${line.slice(0, 200)}`))
        return
      }
      const waiting = pending.shift()
      if (!waiting) {
        fail(lost('sent a reply nobody asked for'))
        return
      }
      clearTimeout(waiting.timer)
      waiting.resolve(reply)
      newline = buffered.indexOf('\n')
    }
    if (buffered.length > ROUTER_MAX_LINE) fail(lost('sent a line longer than the protocol allows'))
  })
  stream.on('error', (error) => {
    fail(lost(`failed: ${error.message}`, error))
  })
  // The router never ends its side first; a half-closed control connection is a lost one.
  stream.once('end', () => {
    fail(lost('was closed by the router'))
  })
  stream.once('close', () => {
    fail(lost('closed'))
    resolveEnded(closing ? undefined : failure)
  })

  const send = (request: RouterRequest): Promise<RouterReply> =>
    new Promise<RouterReply>((resolve, reject) => {
      if (failure || closing || stream.destroyed) {
        reject(failure ?? lost('is closed'))
        return
      }
      const timer = setTimeout(() => {
        fail(
          new TimeoutError(
            'KTX_TIMEOUT',
            `The mesh router did not answer "${request.op}" within ${requestTimeoutMs} ms`,
            {
              option: 'requestTimeoutMs',
              timeoutMs: requestTimeoutMs,
              category: 'network',
              suggestions: ['Check the router pod and its port-forward; then restart the mesh session.'],
            },
          ),
        )
      }, requestTimeoutMs)
      pending.push({ request, resolve, reject, timer })
      stream.write(encodeRouterLine(request))
    })

  const expectOk = async (request: RouterRequest): Promise<RouterReply & { ok: true }> => {
    const reply = await send(request)
    if (reply.ok) return reply
    if (reply.code === 'mark-taken' && request.op === 'add')
      throw new ConflictError(
        `The mark ${request.header}: ${request.value} is already in use by mesh session ${reply.session ?? '(unknown)'}`,
        {
          code: 'KTX_MESH_MARK_TAKEN',
          data: { header: request.header, value: request.value, owner: reply.session },
          suggestions: [
            'Choose another mark (--versionMark); every developer meshing this Service needs their own.',
            `Or wait until session ${reply.session ?? '(unknown)'} ends: its routes go when it does.`,
          ],
        },
      )
    throw new TunnelError('KTX_ROUTER_REFUSED', `The mesh router refused "${request.op}": ${reply.message}`, {
      data: { code: reply.code },
      suggestions: [
        reply.code === 'unknown-port'
          ? 'The router was made for other Service ports; end every mesh of this Service and mesh again.'
          : 'This is a ktx bug (a request the router does not understand); please report it.',
      ],
    })
  }

  const close = async (): Promise<void> => {
    if (!closing) {
      // Best effort: a router that cannot answer drops the routes when the connection goes anyway.
      for (const session of added) await send({ op: 'remove', session }).catch(() => undefined)
      added.clear()
      closing = true
      if (!stream.destroyed) {
        const cut = setTimeout(() => stream.destroy(), closeTimeoutMs)
        // The router closes its side once it has read ours; then the stream closes.
        stream.end()
        await ended
        clearTimeout(cut)
      }
    }
    await ended
  }

  return {
    ended,
    add: async (route) => {
      await expectOk({ op: 'add', ...route })
      added.add(route.session)
    },
    remove: async (session) => {
      await expectOk({ op: 'remove', session })
      added.delete(session)
    },
    list: async () => [...((await expectOk({ op: 'list' })).routes ?? [])],
    ping: async () => {
      await expectOk({ op: 'ping' })
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
