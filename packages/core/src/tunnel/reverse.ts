import { connect as netConnect } from 'node:net'

import type { Logger } from '../logger.js'
import { joinStreams } from './pipe.js'
import type { SshConnection } from './ssh.js'

/** Options of {@link startReverseForward}. */
export interface ReverseForwardOptions {
  readonly ssh: SshConnection
  /** Address the agent binds in the pod. Default `0.0.0.0`. */
  readonly remoteHost?: string
  /** Port the agent binds in the pod; 0 lets it choose. */
  readonly remotePort: number
  /** Where each incoming connection is carried to on this machine. */
  readonly localHost?: string
  readonly localPort: number
  readonly logger: Logger
}

/** A remote listener in the pod feeding a local port. Needs {@link ReverseForward.close}. */
export interface ReverseForward extends AsyncDisposable {
  readonly remotePort: number
  close(): Promise<void>
}

/**
 * Inbound traffic: the agent listens on `remoteHost:remotePort` in the pod and each connection is
 * carried back over SSH (`forwarded-tcpip`) to `localHost:localPort`.
 * @throws TunnelError when the agent refuses the listen (port in use).
 */
export async function startReverseForward(options: ReverseForwardOptions): Promise<ReverseForward> {
  const remoteHost = options.remoteHost ?? '0.0.0.0'
  const localHost = options.localHost ?? '127.0.0.1'
  const log = options.logger.child({ component: 'reverse' })
  const remotePort = await options.ssh.forwardIn(
    remoteHost,
    options.remotePort,
    (details, accept, reject) => {
      const local = netConnect({ host: localHost, port: options.localPort, noDelay: true })
      local.once('connect', () => {
        joinStreams(accept(), local)
      })
      local.once('error', (error) => {
        log.debug('Local target refused a reverse connection', { error: error.message, from: details.srcIP })
        reject()
      })
    },
  )
  const close = (): Promise<void> => options.ssh.unforwardIn(remoteHost, remotePort)
  return { remotePort, close, [Symbol.asyncDispose]: close }
}
