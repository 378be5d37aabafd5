import { connect as netConnect } from 'node:net'

import type { Logger } from '../logger.js'
import { joinStreams } from './pipe.js'
import type { SshConnection } from './ssh.js'

/** What opens listeners in the pod: an SSH connection, or a tunnel that keeps one alive. */
export type RemoteListener = Pick<SshConnection, 'forwardIn' | 'unforwardIn'>

/** Options of {@link startReverseForward}. */
export interface ReverseForwardOptions {
  readonly ssh: RemoteListener
  /** Address the agent binds in the pod. Default `0.0.0.0`. */
  readonly remoteHost?: string
  /** Port the agent binds in the pod; 0 lets it choose. */
  readonly remotePort: number
  /** Where each incoming connection is carried to on this machine. Default `127.0.0.1`. */
  readonly localHost?: string
  readonly localPort: number
  /**
   * Called when the local port refuses a connection (nothing listens there). The caller in the
   * cluster gets a connection reset; the forward keeps running. Must not throw.
   */
  readonly onLocalError?: (error: NodeJS.ErrnoException) => void
  /** Called when a connection reached the local port (e.g. to clear a "not listening" warning). */
  readonly onLocalConnect?: () => void
  /** Called as each connection arrives from the pod, before the local port is tried. */
  readonly onArrival?: () => void
  /**
   * How long the local connect may take before the caller is reset (a firewalled or stuck local
   * address would otherwise hold the channel for the OS's connect timeout). Default 5 000 ms.
   */
  readonly connectTimeoutMs?: number
  readonly logger: Logger
}

/** A remote listener in the pod feeding a local port. Needs {@link ReverseForward.close}. */
export interface ReverseForward extends AsyncDisposable {
  readonly remotePort: number
  /** Connections being carried right now. */
  readonly active: number
  /** Stops the remote listener and cuts the connections it is carrying. */
  close(): Promise<void>
}

/**
 * Inbound traffic: the agent listens on `remoteHost:remotePort` in the pod and each connection is
 * carried back over SSH (`forwarded-tcpip`) to `localHost:localPort`. The channel is accepted only
 * once the local connection is up; a refused local connection rejects the channel, which the agent
 * answers with a TCP reset to the caller.
 * @throws TunnelError when the agent refuses the listen (port in use).
 */
export async function startReverseForward(options: ReverseForwardOptions): Promise<ReverseForward> {
  const remoteHost = options.remoteHost ?? '0.0.0.0'
  const localHost = options.localHost ?? '127.0.0.1'
  const log = options.logger.child({ component: 'reverse', localPort: options.localPort })
  const open = new Set<{ destroy(): void }>()
  const remotePort = await options.ssh.forwardIn(
    remoteHost,
    options.remotePort,
    (details, accept, reject) => {
      options.onArrival?.()
      const local = netConnect({ host: localHost, port: options.localPort, noDelay: true })
      const onError = (error: NodeJS.ErrnoException): void => {
        local.setTimeout(0)
        log.debug('Local port refused a reverse connection', { error: error.message, from: details.srcIP })
        options.onLocalError?.(error)
        reject()
      }
      local.once('error', onError)
      const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
      local.setTimeout(connectTimeoutMs, () => {
        const error: NodeJS.ErrnoException = new Error(
          `connect to ${localHost}:${options.localPort} did not complete within ${connectTimeoutMs} ms`,
        )
        error.code = 'ETIMEDOUT'
        local.destroy(error)
      })
      local.once('connect', () => {
        // From here on errors belong to joinStreams; rejecting an accepted channel would orphan it.
        local.removeListener('error', onError)
        local.setTimeout(0)
        local.removeAllListeners('timeout')
        options.onLocalConnect?.()
        const channel = accept()
        open.add(local)
        joinStreams(channel, local, () => open.delete(local))
      })
    },
  )
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await options.ssh.unforwardIn(remoteHost, remotePort)
      } catch (error) {
        // The agent drops every listener of a connection that ends, so a lost SSH needs no cancel.
        log.debug('Cancelling the remote listener failed', { error: (error as Error).message })
      } finally {
        for (const socket of open) socket.destroy()
        open.clear()
      }
    })()
    return closing
  }
  return {
    remotePort,
    get active() {
      return open.size
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
