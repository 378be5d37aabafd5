import type { Duplex } from 'node:stream'

/**
 * Joins two streams both ways; once both directions ended, or either errors or closes, both are
 * destroyed. This is what keeps sockets out of CLOSE_WAIT when one side goes away.
 */
export function join(a: Duplex, b: Duplex, onClose?: () => void): void {
  let finished = false
  let ended = 0
  const finish = (): void => {
    if (finished) return
    finished = true
    a.destroy()
    b.destroy()
    onClose?.()
  }
  for (const stream of [a, b]) {
    stream.once('end', () => {
      ended += 1
      if (ended === 2) finish()
    })
    stream.once('error', finish)
    stream.once('close', finish)
  }
  a.pipe(b)
  b.pipe(a)
}
