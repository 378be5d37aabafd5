import type { Duplex } from 'node:stream'

/** Opens TCP streams to `host:port` as seen from somewhere else (the shadow pod). */
export interface Dialer {
  /**
   * Connects to `host` (a name resolved remotely, or an IP) and `port`.
   * @throws DialError with the remote error code when the far side cannot connect.
   */
  dial(host: string, port: number): Promise<Duplex>
}

/** A dial that failed at the far end; `code` is the remote Node error code when known. */
export class DialError extends Error {
  readonly code: string | undefined
  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DialError'
    this.code = code
  }
}

/** The code a dial failure carries, if any. */
export function dialErrorCode(error: unknown): string | undefined {
  return error instanceof DialError ? error.code : (error as { code?: string } | undefined)?.code
}
