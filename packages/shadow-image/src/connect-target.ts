import { type Socket, connect as netConnect } from 'node:net'

import type { AgentLog } from './log.js'

/** How long a target may take to accept before the connection is refused with ETIMEDOUT. */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * Connects to a target for ktx (an SSH `direct-tcpip` channel or a direct-path request). Host names
 * go through `dns.lookup` (what `net.connect` uses), i.e. getaddrinfo with the pod's
 * /etc/resolv.conf search path, so `svc` and `svc.ns` resolve like they do for any pod. Resolves
 * once connected; rejects with the socket error (its `code` is what the client maps to a reply).
 */
export function connectTarget(
  host: string,
  port: number,
  log: AgentLog,
  track: (socket: Socket) => void,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, noDelay: true })
    track(socket)
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy(Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: 'ETIMEDOUT' }))
    })
    socket.once('connect', () => {
      socket.setTimeout(0)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      log('debug', 'connect to target failed', { host, port, code: error.code })
      socket.destroy()
      reject(error)
    })
  })
}
