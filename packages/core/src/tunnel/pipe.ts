import type { Duplex } from 'node:stream'

/**
 * Joins two streams both ways. Half-closes pass through (one side's end ends the other's
 * writable); once both directions have ended, or either side errors or closes, both are
 * destroyed, so no socket lingers in CLOSE_WAIT. `onClose` runs once, after that.
 */
export function joinStreams(a: Duplex, b: Duplex, onClose?: (error?: Error) => void): void {
  let finished = false
  let ended = 0
  const finish = (error?: Error): void => {
    if (finished) return
    finished = true
    a.destroy()
    b.destroy()
    onClose?.(error)
  }
  const onEnd = (): void => {
    ended += 1
    if (ended === 2) finish()
  }
  for (const stream of [a, b]) {
    stream.once('end', onEnd)
    stream.once('error', finish)
    stream.once('close', () => {
      finish()
    })
  }
  a.pipe(b)
  b.pipe(a)
}
