import { connect as netConnect } from 'node:net'

import { openFailureDescription } from '@ktx/core/contract'
import { joinStreams as join } from '@ktx/core/pipe'
import type { Connection, TcpipRequestInfo } from 'ssh2'

import type { AgentLog } from './log.js'

/** How long a target may take to accept before the channel is refused with ETIMEDOUT. */
const CONNECT_TIMEOUT_MS = 10_000

type Accept = () => import('ssh2').ServerChannel
type Reject = () => void

/**
 * Opens the target of a `direct-tcpip` channel. Host names go through `dns.lookup` (what
 * `net.connect` uses), i.e. getaddrinfo with the pod's /etc/resolv.conf search path, so `svc` and
 * `svc.ns` resolve like they do for any pod. The channel is accepted only once the TCP connect
 * succeeded; otherwise it is refused with the error code in the description.
 */
export function openDirect(
  client: Connection,
  info: TcpipRequestInfo,
  accept: Accept,
  reject: Reject,
  log: AgentLog,
  track: (socket: import('node:net').Socket) => void,
): void {
  const socket = netConnect({ host: info.destIP, port: info.destPort, noDelay: true })
  track(socket)
  socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
    socket.destroy(
      Object.assign(new Error(`connect ETIMEDOUT ${info.destIP}:${info.destPort}`), { code: 'ETIMEDOUT' }),
    )
  })
  socket.once('connect', () => {
    socket.setTimeout(0)
    socket.removeAllListeners('error')
    const channel = accept()
    join(channel, socket)
  })
  socket.once('error', (error: NodeJS.ErrnoException) => {
    log('debug', 'direct-tcpip connect failed', { host: info.destIP, port: info.destPort, code: error.code })
    rejectWithReason(client, reject, openFailureDescription(error.code, error.message))
    socket.destroy()
  })
}

interface ProtocolLike {
  channelOpenFail(recipient: number, reason: number, description: string): void
}

/**
 * ssh2's `reject()` always sends an empty description. The client needs the error code to pick the
 * right SOCKS reply, so for the duration of the (synchronous) reject call we put the description
 * into the protocol's open-failure message. Falls back to a plain reject if ssh2's internals differ.
 */
function rejectWithReason(client: Connection, reject: Reject, description: string): void {
  const protocol = (client as unknown as { _protocol?: ProtocolLike })._protocol
  if (typeof protocol?.channelOpenFail !== 'function') {
    reject()
    return
  }
  const original = protocol.channelOpenFail.bind(protocol)
  protocol.channelOpenFail = (recipient, reason) => {
    original(recipient, reason, description)
  }
  try {
    reject()
  } finally {
    protocol.channelOpenFail = original
  }
}
