import { Duplex } from 'node:stream'

/**
 * Two connected in-memory stream ends: what one writes the other reads, in chunks of at most
 * `chunk` bytes (so framing code sees its headers split), and ending one ends the other's read side.
 */
export function streamPair(chunk = 1 << 16): [Duplex, Duplex] {
  const end = (peer: () => Duplex): Duplex =>
    new Duplex({
      read: () => undefined,
      write(data: Buffer, _encoding, callback) {
        for (let i = 0; i < data.length; i += chunk) peer().push(data.subarray(i, i + chunk))
        callback()
      },
      final(callback) {
        peer().push(null)
        callback()
      },
    })
  const later: { b?: Duplex } = {}
  const a = end(() => later.b ?? a)
  const b = end(() => a)
  later.b = b
  return [a, b]
}
