import type { Duplex } from 'node:stream'

import { TunnelError } from '../errors.js'

/** Opens TCP streams to `host:port` as seen from somewhere else (the shadow pod). */
export interface Dialer {
  /**
   * Connects to `host` (a name resolved remotely, or an IP) and `port`.
   * @throws DialError with the remote error code when the far side cannot connect.
   */
  dial(host: string, port: number): Promise<Duplex>
}

/**
 * A dial that failed at the far end (`KTX_DIAL_FAILED`); `socketCode` is the remote Node error
 * code when known (`ECONNREFUSED`, `EHOSTUNREACH`, …), which proxies map to their own replies.
 */
export class DialError extends TunnelError {
  readonly socketCode: string | undefined
  constructor(message: string, socketCode: string | undefined, options?: ErrorOptions) {
    super('KTX_DIAL_FAILED', message, options?.cause === undefined ? {} : { cause: options.cause })
    this.name = 'DialError'
    this.socketCode = socketCode
  }
}

/** The socket error code a dial failure carries, if any (a DialError's, or a raw socket error's). */
export function dialErrorCode(error: unknown): string | undefined {
  return error instanceof DialError ? error.socketCode : (error as { code?: string } | undefined)?.code
}
