/**
 * The direct data path: one port-forward per connection to the agent's direct port, so the bytes
 * cross the API server's TLS once instead of SSH inside it. The handshake, per connection:
 *
 *   agent → ktx   hello:   "KTXD1" | nonce (32 random bytes)
 *   ktx → agent   request: u16 length | u8 signature length | signature | u16 port | host (UTF-8)
 *   agent → ktx   reply:   0 (connected) | 1, u16 length, open-failure description
 *
 * then framed data both ways (direct-framing.ts). The signature is the session key's over
 * {@link signedPayload}: the same key the SSH login proves, over a fresh nonce, so only the session
 * that made the pod can use it even though anyone allowed to port-forward can reach the port.
 */
import type { Duplex } from 'node:stream'

const MAGIC = Buffer.from('KTXD1', 'latin1')
const NONCE_BYTES = 32
const HELLO_BYTES = MAGIC.length + NONCE_BYTES
const MAX_REQUEST_BYTES = 1024
const REPLY_OK = 0
const REPLY_FAILED = 1

/** An incomplete message: read more. */
export const INCOMPLETE = Symbol('incomplete')

/** A parser over the bytes read so far: the value and the bytes after it, or INCOMPLETE. */
export type PrefixParser<T> = (
  bytes: Buffer,
) => { readonly value: T; readonly rest: Buffer } | typeof INCOMPLETE

export interface DirectRequest {
  readonly signature: Buffer
  readonly host: string
  readonly port: number
}

export type DirectReply = { readonly ok: true } | { readonly ok: false; readonly description: string }

export function encodeHello(nonce: Buffer): Buffer {
  if (nonce.length !== NONCE_BYTES) throw new Error(`nonce must be ${NONCE_BYTES} bytes`)
  return Buffer.concat([MAGIC, nonce])
}

/** @throws Error when the peer is not a direct-path agent (an old image, another port). */
export const parseHello: PrefixParser<Buffer> = (bytes) => {
  const seen = bytes.subarray(0, MAGIC.length)
  if (!MAGIC.subarray(0, seen.length).equals(seen))
    throw new Error('the agent did not greet with the direct-path hello (an older shadow image?)')
  if (bytes.length < HELLO_BYTES) return INCOMPLETE
  return { value: Buffer.from(bytes.subarray(MAGIC.length, HELLO_BYTES)), rest: bytes.subarray(HELLO_BYTES) }
}

/** What the session key signs for one connection: the protocol, the agent's nonce and the target. */
export function signedPayload(nonce: Buffer, host: string, port: number): Buffer {
  const portBytes = Buffer.alloc(2)
  portBytes.writeUInt16BE(port, 0)
  return Buffer.concat([MAGIC, nonce, portBytes, Buffer.from(host, 'utf8')])
}

export function encodeRequest(request: DirectRequest): Buffer {
  const host = Buffer.from(request.host, 'utf8')
  const length = 1 + request.signature.length + 2 + host.length
  if (request.signature.length > 255 || length > MAX_REQUEST_BYTES)
    throw new Error(`direct request for ${request.host}:${request.port} is too long`)
  const out = Buffer.alloc(2 + length)
  out.writeUInt16BE(length, 0)
  out.writeUInt8(request.signature.length, 2)
  request.signature.copy(out, 3)
  out.writeUInt16BE(request.port, 3 + request.signature.length)
  host.copy(out, 5 + request.signature.length)
  return out
}

/** @throws Error on a malformed request. */
export const parseRequest: PrefixParser<DirectRequest> = (bytes) => {
  if (bytes.length < 2) return INCOMPLETE
  const length = bytes.readUInt16BE(0)
  if (length > MAX_REQUEST_BYTES) throw new Error(`direct request of ${length} bytes is too long`)
  if (bytes.length < 2 + length) return INCOMPLETE
  const body = bytes.subarray(2, 2 + length)
  const signatureLength = body.readUInt8(0)
  if (1 + signatureLength + 2 > body.length) throw new Error('direct request is truncated')
  const signature = Buffer.from(body.subarray(1, 1 + signatureLength))
  const port = body.readUInt16BE(1 + signatureLength)
  const host = body.subarray(3 + signatureLength).toString('utf8')
  if (host === '' || port === 0) throw new Error('direct request has no target')
  return { value: { signature, host, port }, rest: bytes.subarray(2 + length) }
}

export function encodeReply(reply: DirectReply): Buffer {
  if (reply.ok) return Buffer.from([REPLY_OK])
  const description = Buffer.from(reply.description.slice(0, 500), 'utf8')
  const out = Buffer.alloc(3 + description.length)
  out.writeUInt8(REPLY_FAILED, 0)
  out.writeUInt16BE(description.length, 1)
  description.copy(out, 3)
  return out
}

/** @throws Error on an unknown reply. */
export const parseReply: PrefixParser<DirectReply> = (bytes) => {
  if (bytes.length < 1) return INCOMPLETE
  const status = bytes.readUInt8(0)
  if (status === REPLY_OK) return { value: { ok: true }, rest: bytes.subarray(1) }
  if (status !== REPLY_FAILED) throw new Error(`unknown direct reply ${status}`)
  if (bytes.length < 3) return INCOMPLETE
  const length = bytes.readUInt16BE(1)
  if (bytes.length < 3 + length) return INCOMPLETE
  return {
    value: { ok: false, description: bytes.subarray(3, 3 + length).toString('utf8') },
    rest: bytes.subarray(3 + length),
  }
}

/**
 * Reads from `stream` until `parse` has a value; resolves with it and the bytes after it (the
 * stream is left paused, nothing lost). Rejects when the stream ends, errors or `timeoutMs` passes.
 */
export function readPrefix<T>(
  stream: Duplex,
  parse: PrefixParser<T>,
  timeoutMs: number,
): Promise<{ readonly value: T; readonly rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let bytes: Buffer = Buffer.alloc(0)
    const done = (error: Error | undefined, result?: { value: T; rest: Buffer }): void => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('close', onClose)
      stream.off('error', onError)
      stream.pause()
      if (result) resolve(result)
      else reject(error ?? new Error('no reply'))
    }
    const onData = (chunk: Buffer): void => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk])
      try {
        const parsed = parse(bytes)
        if (parsed !== INCOMPLETE) done(undefined, { value: parsed.value, rest: parsed.rest })
      } catch (error) {
        done(error as Error)
      }
    }
    const onClose = (): void => {
      done(new Error('the connection closed during the direct-path handshake'))
    }
    const onError = (error: Error): void => {
      done(error)
    }
    const timer = setTimeout(() => {
      done(new Error(`no direct-path handshake within ${timeoutMs} ms`))
    }, timeoutMs)
    timer.unref()
    stream.on('data', onData)
    stream.once('close', onClose)
    stream.once('error', onError)
    stream.resume()
  })
}
