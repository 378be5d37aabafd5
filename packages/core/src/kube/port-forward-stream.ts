import { Duplex } from 'node:stream'

import WebSocket from 'ws'

import { TunnelError } from '../errors.js'
import {
  DATA_CHANNEL,
  ERROR_CHANNEL,
  type FrameDecoder,
  encodeFrame,
  encodeFrames,
} from './port-forward-codec.js'

/** Above this many bytes queued in the WebSocket, writers wait: backpressure instead of RAM growth. */
const HIGH_WATER_BYTES = 1 << 20

/**
 * One TCP stream to a pod port carried by one long-lived WebSocket, as a Node `Duplex`.
 * Writes wait while the socket's buffer is full and reading pauses the socket when the consumer
 * is slow, so neither side buffers without bound. An error-channel message destroys the stream
 * with a {@link TunnelError} `KTX_PORT_FORWARD_LOST`. Needs {@link PortForwardStream.close}.
 */
export class PortForwardStream extends Duplex {
  readonly #ws: WebSocket
  readonly #decoder: FrameDecoder
  readonly #target: string
  #errorText = ''
  #closed: Promise<void>

  /** @internal Use {@link openPortForwardStream}. */
  constructor(ws: WebSocket, decoder: FrameDecoder, target: string) {
    super({ allowHalfOpen: false })
    this.#ws = ws
    this.#decoder = decoder
    this.#target = target
    this.#closed = new Promise((resolve) => ws.once('close', () => resolve()))
    ws.on('message', (data: Buffer) => {
      this.#onMessage(data)
    })
    ws.on('close', (code: number, reason: Buffer) => {
      this.#onClose(code, reason.toString())
    })
    ws.on('error', (error) => {
      this.destroy(
        new TunnelError('KTX_PORT_FORWARD_LOST', `Port-forward to ${target} failed: ${error.message}`, {
          cause: error,
        }),
      )
    })
  }

  /** @internal Feeds a message that arrived before this stream existed. */
  feed(data: Buffer): void {
    this.#onMessage(data, true)
  }

  #onMessage(data: Buffer, decoded = false): void {
    const frame = decoded ? { channel: DATA_CHANNEL, payload: data } : this.#decoder.decode(data)
    if (!frame || frame.payload.length === 0) return
    if (frame.channel === DATA_CHANNEL) {
      if (!this.push(frame.payload)) this.#ws.pause()
    } else if (frame.channel === ERROR_CHANNEL) {
      this.#errorText += frame.payload.toString('utf8')
    }
  }

  #onClose(code: number, reason: string): void {
    if (this.#errorText !== '') {
      this.destroy(
        new TunnelError(
          'KTX_PORT_FORWARD_LOST',
          `Port-forward to ${this.#target} failed: ${this.#errorText}`,
          {
            data: { code, reason },
          },
        ),
      )
      return
    }
    this.push(null)
    // v4 has no half-close: the WebSocket closing means both directions are done.
    if (!this.writableEnded) this.end()
  }

  override _read(): void {
    if (this.#ws.isPaused) this.#ws.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(encodeFrame(DATA_CHANNEL, chunk), callback)
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.#send(
      encodeFrames(
        DATA_CHANNEL,
        chunks.map((c) => c.chunk),
      ),
      callback,
    )
  }

  #send(frame: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#ws.readyState !== WebSocket.OPEN) {
      callback(new TunnelError('KTX_PORT_FORWARD_LOST', `Port-forward to ${this.#target} is closed`))
      return
    }
    let called = false
    const done = (error?: Error | null): void => {
      if (called) return
      called = true
      callback(error)
    }
    this.#ws.send(frame, { binary: true }, (error) => {
      done(
        error
          ? new TunnelError(
              'KTX_PORT_FORWARD_LOST',
              `Port-forward to ${this.#target} failed: ${error.message}`,
              { cause: error },
            )
          : null,
      )
    })
    // Below the high-water mark the next write may start now; above it, wait for this frame to
    // reach the socket.
    if (this.#ws.bufferedAmount < HIGH_WATER_BYTES) done()
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000)
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.terminate()
    callback(error)
  }

  /** Ends the stream and waits (up to `timeoutMs`, default 2 000) for the WebSocket to close. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return
    this.end()
    const timer = setTimeout(() => this.destroy(), timeoutMs)
    timer.unref()
    try {
      await this.#closed
    } finally {
      clearTimeout(timer)
    }
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
