/**
 * The byte stream of one direct connection after its handshake (see direct-protocol.ts): data in
 * frames of `u32 length | bytes`, a zero length meaning "no more data this way". The framing is
 * there for half-close alone: a port-forward WebSocket has none (closing it ends both ways), but a
 * client that shuts its write side must still get the whole answer, and a server that ends its
 * answer must still get what the client sends after.
 */
import { Duplex } from 'node:stream'

const HEADER_BYTES = 4
const END_FRAME = Buffer.alloc(HEADER_BYTES)

/**
 * A framed {@link Duplex} over `inner` (a port-forward stream on the laptop, the kubelet's socket
 * in the agent). `end()` sends the end frame and keeps `inner` open; `inner` is ended once both
 * ways are done, and destroyed (so the far side sees an abort) when this is destroyed or `inner`
 * closes before both ends were seen.
 */
export class FramedStream extends Duplex {
  readonly #inner: Duplex
  // Bytes of the current frame still to come; -1 while its header is incomplete.
  #remaining = -1
  #header = Buffer.alloc(0)
  #sawEnd = false

  constructor(inner: Duplex, leftover?: Buffer) {
    super({ allowHalfOpen: true })
    this.#inner = inner
    inner.on('data', (chunk: Buffer) => {
      this.#parse(chunk)
    })
    inner.once('error', (error) => this.destroy(error))
    inner.once('close', () => {
      if (!(this.#sawEnd && this.writableFinished)) this.destroy()
    })
    this.once('finish', () => {
      this.#finishIfDone()
    })
    if (leftover !== undefined && leftover.length > 0) this.#parse(leftover)
    // Its 'close' already happened (the far side left during the handshake): nothing will come.
    if (inner.destroyed) process.nextTick(() => this.destroy())
  }

  #parse(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length && !this.#sawEnd) {
      if (this.#remaining <= 0) {
        const need = HEADER_BYTES - this.#header.length
        this.#header = Buffer.concat([this.#header, chunk.subarray(offset, offset + need)])
        offset += Math.min(need, chunk.length - offset)
        if (this.#header.length < HEADER_BYTES) return
        this.#remaining = this.#header.readUInt32BE(0)
        this.#header = Buffer.alloc(0)
        if (this.#remaining === 0) {
          this.#onEnd()
          return
        }
        continue
      }
      const take = Math.min(this.#remaining, chunk.length - offset)
      this.#remaining -= take
      if (!this.push(chunk.subarray(offset, offset + take))) this.#inner.pause()
      offset += take
    }
  }

  #onEnd(): void {
    this.#sawEnd = true
    this.push(null)
    this.#finishIfDone()
  }

  #finishIfDone(): void {
    if (this.#sawEnd && this.writableFinished) this.#inner.end()
  }

  override _read(): void {
    this.#inner.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writeFrames([chunk], callback)
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.#writeFrames(
      chunks.map((c) => c.chunk),
      callback,
    )
  }

  #writeFrames(chunks: readonly Buffer[], callback: (error?: Error | null) => void): void {
    let flushed = true
    // Corked, a socket sends header and data in one writev and a port-forward stream in one frame.
    this.#inner.cork()
    for (const chunk of chunks) {
      if (chunk.length === 0) continue
      const header = Buffer.allocUnsafe(HEADER_BYTES)
      header.writeUInt32BE(chunk.length, 0)
      this.#inner.write(header)
      flushed = this.#inner.write(chunk)
    }
    this.#inner.uncork()
    if (flushed) callback()
    else this.#inner.once('drain', () => callback())
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner.write(END_FRAME, () => callback())
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Done both ways (auto-destroy after end and finish): let `inner` flush the end frame.
    if (error === null && this.#sawEnd && this.writableFinished) this.#inner.end()
    else this.#inner.destroy()
    callback(error)
  }
}
