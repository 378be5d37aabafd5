/**
 * The Kubernetes WebSocket channel protocol (`v4.channel.k8s.io`) as used by port-forward: every
 * binary message starts with one channel byte. For a single forwarded port, channel 0 carries data
 * and channel 1 errors; the server begins each channel with the port as 2 little-endian bytes,
 * which are not payload. The client sends data on channel 0 with no port prefix.
 */

/** Data channel of the first (only) forwarded port. */
export const DATA_CHANNEL = 0
/** Error channel of the first (only) forwarded port. */
export const ERROR_CHANNEL = 1
/** WebSocket subprotocol ktx asks for. */
export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io'

/** Prepends the channel byte to `payload` (one copy, like any framing would). */
export function encodeFrame(channel: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + 1)
  frame[0] = channel
  frame.set(payload, 1)
  return frame
}

/** Joins several writes into one frame so a burst costs one WebSocket message. */
export function encodeFrames(channel: number, payloads: readonly Uint8Array[]): Buffer {
  let length = 1
  for (const p of payloads) length += p.length
  const frame = Buffer.allocUnsafe(length)
  frame[0] = channel
  let offset = 1
  for (const p of payloads) {
    frame.set(p, offset)
    offset += p.length
  }
  return frame
}

/** One decoded message: its channel and the payload with any port prefix removed. */
export interface DecodedFrame {
  readonly channel: number
  readonly payload: Buffer
}

/**
 * Splits incoming messages into channel + payload and strips the 2-byte port prefix at the start
 * of each channel, even when the prefix arrives split over messages or glued to the first data.
 */
export class FrameDecoder {
  readonly #prefixLeft = new Map<number, number>()
  readonly #ports = new Map<number, number[]>()

  /** Decodes one message. Returns `undefined` for an empty message. */
  decode(message: Buffer): DecodedFrame | undefined {
    if (message.length === 0) return undefined
    const channel = message[0] ?? 0
    let payload = message.subarray(1)
    const left = this.#prefixLeft.get(channel) ?? 2
    if (left > 0) {
      const take = Math.min(left, payload.length)
      const seen = this.#ports.get(channel) ?? []
      seen.push(...payload.subarray(0, take))
      this.#ports.set(channel, seen)
      this.#prefixLeft.set(channel, left - take)
      payload = payload.subarray(take)
    }
    return { channel, payload }
  }

  /** The port the server announced on `channel`, once both prefix bytes arrived. */
  portOf(channel: number): number | undefined {
    const bytes = this.#ports.get(channel)
    if (bytes?.length !== 2) return undefined
    return (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8)
  }
}
