import type { Duplex } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { streamPair } from '../testing/stream-pair.js'
import { FramedStream } from './direct-framing.js'

const pair = streamPair

async function readAll(stream: Duplex): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += (chunk as Buffer).toString()
  return text
}

describe('FramedStream', () => {
  for (const chunk of [1, 3, 5, 1 << 16]) {
    it(`carries data both ways with headers split every ${chunk} bytes`, async () => {
      const [a, b] = pair(chunk)
      const left = new FramedStream(a)
      const right = new FramedStream(b)
      const rightGot = readAll(right)
      left.write('hello ')
      left.end('world')
      expect(await rightGot).toBe('hello world')
      // Half-closed: the other way still works after the first side ended.
      const leftGot = readAll(left)
      right.end('and back')
      expect(await leftGot).toBe('and back')
    })
  }

  it('ends the inner stream only once both ways are done', async () => {
    const [a, b] = pair(1 << 16)
    const left = new FramedStream(a)
    const right = new FramedStream(b)
    const rightGot = readAll(right)
    left.end('one way')
    await rightGot
    expect(a.writableEnded).toBe(false)
    const leftGot = readAll(left)
    right.end()
    await leftGot
    await new Promise((resolve) => setImmediate(resolve))
    expect(a.writableEnded).toBe(true)
    expect(b.writableEnded).toBe(true)
  })

  it('an inner stream that closes before both ends were seen aborts the framed one', async () => {
    const [a] = pair(1 << 16)
    const framed = new FramedStream(a)
    const closed = new Promise((resolve) => framed.once('close', resolve))
    a.destroy()
    await closed
    expect(framed.readableEnded).toBe(false)
  })

  it('destroying the framed stream destroys the inner one (the far side sees an abort)', () => {
    const [a] = pair(1 << 16)
    const framed = new FramedStream(a)
    framed.destroy()
    expect(a.destroyed).toBe(true)
  })
})
