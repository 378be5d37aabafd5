import { PassThrough } from 'node:stream'

import { describe, expect, it } from 'vitest'

import {
  INCOMPLETE,
  encodeHello,
  encodeReply,
  encodeRequest,
  parseHello,
  parseReply,
  parseRequest,
  readPrefix,
  signedPayload,
} from './direct-protocol.js'

const nonce = Buffer.alloc(32, 7)

describe('direct-path messages', () => {
  it('round-trip, with what follows each kept', () => {
    const tail = Buffer.from('after')
    expect(parseHello(Buffer.concat([encodeHello(nonce), tail]))).toEqual({ value: nonce, rest: tail })
    const request = { signature: Buffer.alloc(64, 1), host: 'web.team-a', port: 8080 }
    expect(parseRequest(Buffer.concat([encodeRequest(request), tail]))).toEqual({
      value: request,
      rest: tail,
    })
    expect(parseReply(Buffer.concat([encodeReply({ ok: true }), tail]))).toEqual({
      value: { ok: true },
      rest: tail,
    })
    const failed = { ok: false as const, description: 'ECONNREFUSED connect ECONNREFUSED 10.0.0.1:80' }
    expect(parseReply(encodeReply(failed))).toEqual({ value: failed, rest: Buffer.alloc(0) })
  })

  it('every prefix of a message is incomplete, never an error', () => {
    const request = encodeRequest({ signature: Buffer.alloc(64, 1), host: 'h', port: 1 })
    const reply = encodeReply({ ok: false, description: 'EACCES no' })
    for (const [message, parse] of [
      [encodeHello(nonce), parseHello],
      [request, parseRequest],
      [reply, parseReply],
    ] as const) {
      for (let cut = 0; cut < message.length; cut++) expect(parse(message.subarray(0, cut))).toBe(INCOMPLETE)
    }
  })

  it('a peer that is not a direct-path agent is told apart at its first byte', () => {
    expect(() => parseHello(Buffer.from('SSH-2.0-'))).toThrow(/older shadow image/)
    expect(() => parseHello(Buffer.from('S'))).toThrow(/older shadow image/)
  })

  it('refuses malformed and oversized requests', () => {
    const oversized = Buffer.alloc(4)
    oversized.writeUInt16BE(5000, 0)
    expect(() => parseRequest(oversized)).toThrow(/too long/)
    const noHost = encodeRequest({ signature: Buffer.alloc(64), host: 'x', port: 1 }).subarray(0, -1)
    noHost.writeUInt16BE(noHost.length - 2, 0)
    expect(() => parseRequest(noHost)).toThrow(/no target/)
    expect(() => encodeRequest({ signature: Buffer.alloc(64), host: 'h'.repeat(2000), port: 1 })).toThrow(
      /too long/,
    )
    expect(() => parseReply(Buffer.from([9]))).toThrow(/unknown direct reply/)
  })

  it('signs the nonce and the target, so a signature fits one connection and one target only', () => {
    expect(signedPayload(nonce, 'a', 1).equals(signedPayload(nonce, 'a', 1))).toBe(true)
    expect(signedPayload(nonce, 'a', 1).equals(signedPayload(nonce, 'a', 2))).toBe(false)
    expect(signedPayload(nonce, 'a', 1).equals(signedPayload(Buffer.alloc(32, 8), 'a', 1))).toBe(false)
  })
})

describe('readPrefix', () => {
  it('assembles a message split across chunks and returns the bytes after it', async () => {
    const stream = new PassThrough()
    const reading = readPrefix(stream, parseHello, 1_000)
    const hello = Buffer.concat([encodeHello(nonce), Buffer.from('rest')])
    for (const byte of hello) stream.write(Buffer.from([byte]))
    const { value, rest } = await reading
    expect(value).toEqual(nonce)
    expect(rest.toString()).toBe('')
  })

  it('fails when the stream closes first or nothing comes in time', async () => {
    const closing = new PassThrough()
    const reading = readPrefix(closing, parseHello, 1_000)
    closing.destroy()
    await expect(reading).rejects.toThrow(/closed during the direct-path handshake/)
    await expect(readPrefix(new PassThrough(), parseHello, 20)).rejects.toThrow(/within 20 ms/)
  })
})
