import { connect } from 'node:net'

/**
 * Tries one TCP connection to `host:port` on this machine and closes it at once. Resolves with the
 * error when nothing accepts (ECONNREFUSED, or ETIMEDOUT after `timeoutMs`), undefined when
 * something listens. Never rejects.
 */
export function probeLocalPort(
  host: string,
  port: number,
  timeoutMs = 2_000,
): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: 'ETIMEDOUT' }))
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error)
    })
  })
}
