import { describe, expect, it } from 'vitest'

import { MAX_REQUEST_LINE, classify } from './classify.js'

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1')

describe('classify', () => {
  it('knows HTTP/1.x request lines', () => {
    expect(classify(bytes('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe('http1')
    expect(classify(bytes('POST /api?q=1 HTTP/1.0\r\n'))).toBe('http1')
    expect(classify(bytes('M-SEARCH * HTTP/1.1\n'))).toBe('http1')
  })

  it('knows the HTTP/2 preface, also when it is a prefix of an HTTP/1 line so far', () => {
    expect(classify(bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00'))).toBe('h2')
    expect(classify(bytes('PRI * HTTP/2.0\r\n'))).toBeUndefined()
    expect(classify(bytes('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'))).toBe('raw')
  })

  it('waits while the bytes could still be HTTP', () => {
    for (const partial of [
      '',
      'G',
      'GET',
      'GET ',
      'GET /pa',
      'GET /path ',
      'GET /path HTTP/1',
      'GET / HTTP/1.1\r',
    ])
      expect(classify(bytes(partial)), JSON.stringify(partial)).toBeUndefined()
  })

  it('calls garbage raw at once', () => {
    for (const garbage of [
      '\x16\x03\x01\x02\x00',
      'hello',
      'get / HTTP/1.1\r\n',
      'GET / HTTP/3\r\n',
      'GET / FTP',
      'SSH-2.0-x\r\n',
      '\x00',
    ])
      expect(classify(bytes(garbage)), JSON.stringify(garbage)).toBe('raw')
    expect(classify(bytes(`GET /${'a'.repeat(MAX_REQUEST_LINE)}`))).toBe('raw')
  })
})
