import { openFailureDescription } from '@ktx/core/contract'
import { joinStreams as join } from '@ktx/core/pipe'
import type { Connection, TcpipRequestInfo } from 'ssh2'

import { connectTarget } from './connect-target.js'
import type { AgentLog } from './log.js'

type Accept = () => import('ssh2').ServerChannel
type Reject = () => void

/**
 * Opens the target of a `direct-tcpip` channel (see connect-target.ts). The channel is accepted
 * only once the TCP connect succeeded; otherwise it is refused with the error code in the
 * description.
 */
export function openDirect(
  client: Connection,
  info: TcpipRequestInfo,
  accept: Accept,
  reject: Reject,
  log: AgentLog,
  track: (socket: import('node:net').Socket) => void,
): void {
  connectTarget(info.destIP, info.destPort, log, track).then(
    (socket) => {
      join(accept(), socket)
    },
    (error: unknown) => {
      const { code, message } = error as NodeJS.ErrnoException
      rejectWithReason(client, reject, openFailureDescription(code, message))
    },
  )
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
