import { describe, expect, it } from 'vitest'

import { DATA_CHANNEL, ERROR_CHANNEL, FrameDecoder, encodeFrame, encodeFrames } from './port-forward-codec.js'

describe('port-forward frame codec', () => {
  it('prefixes the channel byte', () => {
    expect([...encodeFrame(DATA_CHANNEL, Buffer.from('hi'))]).toEqual([0, 0x68, 0x69])
    expect([...encodeFrames(DATA_CHANNEL, [Buffer.from('a'), Buffer.from('bc')])]).toEqual([
      0, 0x61, 0x62, 0x63,
    ])
  })

  it('strips the little-endian port prefix once per channel and reports the port', () => {
    const decoder = new FrameDecoder()
    // 2222 = 0x08ae → little-endian ae 08
    expect(decoder.decode(Buffer.from([0, 0xae, 0x08]))).toEqual({ channel: 0, payload: Buffer.alloc(0) })
    expect(decoder.portOf(DATA_CHANNEL)).toBe(2222)
    expect(decoder.decode(Buffer.from([0, 1, 2, 3]))?.payload).toEqual(Buffer.from([1, 2, 3]))
    expect(decoder.decode(Buffer.from([1, 0xae, 0x08]))?.payload.length).toBe(0)
    expect(decoder.portOf(ERROR_CHANNEL)).toBe(2222)
    expect(decoder.decode(Buffer.from([1, ...Buffer.from('boom')]))).toEqual({
      channel: 1,
      payload: Buffer.from('boom'),
    })
  })

  it('handles a prefix split across messages or glued to data', () => {
    const decoder = new FrameDecoder()
    expect(decoder.decode(Buffer.from([0, 0x50]))?.payload.length).toBe(0)
    expect(decoder.portOf(DATA_CHANNEL)).toBeUndefined()
    expect(decoder.decode(Buffer.from([0, 0x00, 9, 8]))?.payload).toEqual(Buffer.from([9, 8]))
    expect(decoder.portOf(DATA_CHANNEL)).toBe(80)
  })

  it('ignores empty messages', () => {
    expect(new FrameDecoder().decode(Buffer.alloc(0))).toBeUndefined()
  })
})
