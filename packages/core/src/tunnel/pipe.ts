import type { Duplex } from 'node:stream'

/**
 * Joins two streams both ways. A normal end passes through as a half-close (one side's end ends the
 * other's writable side); once one side has closed and the other has flushed what it holds, or
 * either errors or is cut off (closes before its readable side ended), both are destroyed, so no
 * socket lingers in CLOSE_WAIT. `onClose` runs once, after that.
 *
 * A stream that closes normally must not destroy its partner: the partner may still hold bytes
 * waiting for the peer's window (an SSH channel holds up to 2 MiB), and destroying it would cut the
 * tail off every large response.
 */
export function joinStreams(a: Duplex, b: Duplex, onClose?: (error?: Error) => void): void {
  let finished = false
  const finish = (error?: Error): void => {
    if (finished) return
    finished = true
    a.destroy()
    b.destroy()
    onClose?.(error)
  }
  for (const [stream, partner] of [
    [a, b],
    [b, a],
  ] as const) {
    stream.once('error', finish)
    stream.once('close', () => {
      if (!stream.readableEnded) {
        finish()
        return
      }
      // Nothing can reach the closed side any more; the partner only has to flush what it holds.
      if (partner.writableFinished) finish()
      else partner.once('finish', () => finish())
    })
  }
  a.pipe(b)
  b.pipe(a)
}
