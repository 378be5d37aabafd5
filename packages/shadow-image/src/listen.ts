import type { Server } from 'node:net'

import type { AgentLog } from './log.js'

/**
 * Listens on host:port (0: any) and resolves with the bound port; rejects on a bind error. The
 * bind-time error handler is removed once listening, and a lasting one logs later errors (an
 * accept failing with EMFILE when the pod runs out of descriptors): the server keeps listening,
 * and an 'error' event without a listener would otherwise kill the agent.
 */
export function listen(
  server: Server,
  host: string,
  port: number,
  log: AgentLog,
  what: string,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.removeListener('error', reject)
      const address = server.address()
      const bound = typeof address === 'object' && address ? address.port : port
      server.on('error', (error: NodeJS.ErrnoException) => {
        log('warn', 'Server error; still serving', {
          server: what,
          port: bound,
          code: error.code,
          error: error.message,
        })
      })
      resolve(bound)
    })
  })
}

/** Stops accepting and resolves once the server has closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
  })
}
