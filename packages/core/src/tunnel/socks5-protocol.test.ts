import { describe, expect, it } from 'vitest'

import {
  Reply,
  encodeReply,
  encodeUserPass,
  parseGreeting,
  parseRequest,
  parseUserPass,
  replyForError,
} from './socks5-protocol.js'

const req = (...bytes: number[]) => Buffer.from(bytes)

describe('SOCKS5 parsing', () => {
  it('parses a greeting, waiting for all methods', () => {
    expect(parseGreeting(req(5, 2, 0))).toEqual({ kind: 'incomplete' })
    expect(parseGreeting(req(5, 2, 0, 2))).toEqual({ kind: 'ok', consumed: 4, methods: [0, 2] })
    expect(parseGreeting(req(4, 1, 0))).toMatchObject({ kind: 'invalid' })
  })

  it('parses CONNECT to IPv4, a domain name (unresolved) and IPv6', () => {
    expect(parseRequest(req(5, 1, 0, 1, 10, 96, 0, 1, 0, 80))).toEqual({
      kind: 'ok',
      consumed: 10,
      command: 1,
      host: '10.96.0.1',
      port: 80,
      addressType: 'ipv4',
    })
    const name = Buffer.from('web.team-a')
    expect(parseRequest(Buffer.concat([req(5, 1, 0, 3, name.length), name, req(0x1f, 0x90)]))).toMatchObject({
      kind: 'ok',
      host: 'web.team-a',
      port: 8080,
      addressType: 'domain',
    })
    const v6 = req(5, 1, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 187)
    expect(parseRequest(v6)).toMatchObject({ kind: 'ok', host: 'fd00::1', port: 443, addressType: 'ipv6' })
  })

  it('waits for a partial request and keeps extra bytes out of `consumed`', () => {
    expect(parseRequest(req(5, 1, 0, 1, 10, 96))).toEqual({ kind: 'incomplete' })
    expect(parseRequest(req(5, 1, 0, 1, 127, 0, 0, 1, 0, 80, 71, 69, 84))).toMatchObject({ consumed: 10 })
  })

  it('rejects BIND/UDP and unknown address types with the right reply code', () => {
    expect(parseRequest(req(5, 2, 0, 1, 1, 2, 3, 4, 0, 80))).toMatchObject({
      kind: 'invalid',
      reply: Reply.commandNotSupported,
    })
    expect(parseRequest(req(5, 1, 0, 9, 0, 0))).toMatchObject({
      kind: 'invalid',
      reply: Reply.addressTypeNotSupported,
    })
  })

  it('maps remote connect errors to reply codes', () => {
    expect(replyForError('ECONNREFUSED')).toBe(Reply.connectionRefused)
    expect(replyForError('ENOTFOUND')).toBe(Reply.hostUnreachable)
    expect(replyForError('ENETUNREACH')).toBe(Reply.networkUnreachable)
    expect(replyForError(undefined)).toBe(Reply.generalFailure)
    expect([...encodeReply(Reply.succeeded)]).toEqual([5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
  })

  it('gives an IPv6 target in its short form', () => {
    const connectTo = (hex: string) =>
      parseRequest(Buffer.concat([req(5, 1, 0, 4), Buffer.from(hex, 'hex'), req(0, 80)]))
    expect(connectTo('00'.repeat(16))).toMatchObject({ kind: 'ok', host: '::', port: 80 })
    expect(connectTo(`${'00'.repeat(15)}01`)).toMatchObject({ kind: 'ok', host: '::1' })
    expect(connectTo('20010db8000000010000000000000001')).toMatchObject({
      kind: 'ok',
      host: '2001:db8:0:1::1',
    })
  })

  it('parses the RFC 1929 username/password request it encodes, waiting for all of it', () => {
    const encoded = encodeUserPass('ktx', 'päss')
    expect(parseUserPass(encoded.subarray(0, 5))).toEqual({ kind: 'incomplete' })
    expect(parseUserPass(encoded)).toEqual({
      kind: 'ok',
      consumed: encoded.length,
      username: 'ktx',
      password: 'päss',
    })
    expect(parseUserPass(req(5, 0, 0))).toMatchObject({ kind: 'invalid' })
  })
})
