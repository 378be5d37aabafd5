import { describe, expect, it } from 'vitest'

import { tarChunks } from './tar.js'

function field(block: Buffer, offset: number, width: number): string {
  return block
    .subarray(offset, offset + width)
    .toString('utf8')
    .replace(/\0.*$/s, '')
}

describe('tarChunks', () => {
  const stream = Buffer.concat(
    tarChunks([
      { type: 'dir', path: 'usr', mode: 0o755 },
      { type: 'file', path: 'usr/hello', mode: 0o644, data: Buffer.from('hi\n') },
    ]),
  )

  it('writes ustar headers with root owner, mtime 0, the type and a valid checksum', () => {
    expect(stream.length % 512).toBe(0)
    const dir = stream.subarray(0, 512)
    expect(field(dir, 0, 100)).toBe('usr/')
    expect(field(dir, 156, 1)).toBe('5')
    const file = stream.subarray(512, 1024)
    expect(field(file, 0, 100)).toBe('usr/hello')
    expect(parseInt(field(file, 100, 8), 8)).toBe(0o644)
    expect(parseInt(field(file, 124, 12), 8)).toBe(3)
    expect(parseInt(field(file, 136, 12), 8)).toBe(0)
    expect(field(file, 257, 6)).toBe('ustar')
    const stored = parseInt(field(file, 148, 8), 8)
    const blank = Buffer.from(file)
    blank.fill(' ', 148, 156)
    expect(stored).toBe(blank.reduce((sum, byte) => sum + byte, 0))
    expect(stream.subarray(1024, 1027).toString()).toBe('hi\n')
    // content padded to a block, then two zero blocks
    expect(stream.length).toBe(512 * 3 + 1024)
  })

  it('splits a long path into prefix and name', () => {
    const path = `${'a'.repeat(80)}/${'b'.repeat(80)}`
    const [header] = tarChunks([{ type: 'file', path, mode: 0o644, data: Buffer.alloc(0) }])
    expect(field(header!, 0, 100)).toBe('b'.repeat(80))
    expect(field(header!, 345, 155)).toBe('a'.repeat(80))
  })

  it('is deterministic', () => {
    const again = Buffer.concat(
      tarChunks([
        { type: 'dir', path: 'usr', mode: 0o755 },
        { type: 'file', path: 'usr/hello', mode: 0o644, data: Buffer.from('hi\n') },
      ]),
    )
    expect(again.equals(stream)).toBe(true)
  })
})
