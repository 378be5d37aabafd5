import { describe, expect, it } from 'vitest'

import {
  encodeRouterLine,
  encodeRouterPorts,
  errorCodeOfOpenFailure,
  openFailureDescription,
  parseHostPort,
  parseRouterPorts,
  parseRouterReply,
  parseRouterRequest,
} from './contract.js'

describe('open-failure descriptions', () => {
  it('round-trips the Node error code', () => {
    const description = openFailureDescription('ECONNREFUSED', 'connect ECONNREFUSED 10.96.0.1:80')
    expect(description).toBe('ECONNREFUSED connect ECONNREFUSED 10.96.0.1:80')
    expect(errorCodeOfOpenFailure(description)).toBe('ECONNREFUSED')
    expect(errorCodeOfOpenFailure('ENOTFOUND getaddrinfo ENOTFOUND web')).toBe('ENOTFOUND')
  })

  it('has no code for a plain message or an empty description', () => {
    expect(openFailureDescription(undefined, 'nope')).toBe('nope')
    expect(errorCodeOfOpenFailure('nope')).toBeUndefined()
    expect(errorCodeOfOpenFailure('')).toBeUndefined()
  })
})

describe('host:port', () => {
  it('reads names, IPv4 and bracketed IPv6', () => {
    expect(parseHostPort('web.ns:80')).toEqual({ host: 'web.ns', port: 80 })
    expect(parseHostPort('10.244.0.7:8080')).toEqual({ host: '10.244.0.7', port: 8080 })
    expect(parseHostPort('[fd00::7]:443')).toEqual({ host: 'fd00::7', port: 443 })
  })

  it('refuses a missing or out-of-range port and bare IPv6', () => {
    for (const text of ['web', 'web:', 'web:0', 'web:65536', 'fd00::7:80', ':80', 'a b:80', 'http://x:80'])
      expect(parseHostPort(text), text).toBeUndefined()
  })
})

describe('router ports', () => {
  it('round-trips through the environment value', () => {
    const ports = [
      { port: 80, fallback: 'web-stuntman.ns:80' },
      { port: 9090, fallback: '[fd00::1]:9090' },
    ]
    expect(parseRouterPorts(encodeRouterPorts(ports))).toEqual(ports)
  })

  it('says what is wrong', () => {
    expect(() => parseRouterPorts('nope')).toThrow(/not JSON/)
    expect(() => parseRouterPorts('[]')).toThrow(/non-empty/)
    expect(() => parseRouterPorts('[{"port":0,"fallback":"a:1"}]')).toThrow(/entry 0: "port"/)
    expect(() => parseRouterPorts('[{"port":80,"fallback":"a"}]')).toThrow(/entry 0: "fallback"/)
    expect(() => parseRouterPorts('[{"port":80,"fallback":"a:1"},{"port":80,"fallback":"b:1"}]')).toThrow(
      /port 80 is listed twice/,
    )
  })
})

describe('router control lines', () => {
  const add = { op: 'add', session: 's1', header: 'Version', value: 'x', targets: { '80': '127.0.0.1:3001' } }

  it('parses each request kind', () => {
    expect(parseRouterRequest(JSON.stringify(add))).toEqual({ ok: true, request: add })
    expect(parseRouterRequest('{"op":"remove","session":"s1"}')).toEqual({
      ok: true,
      request: { op: 'remove', session: 's1' },
    })
    expect(parseRouterRequest('{"op":"list","extra":1}')).toEqual({ ok: true, request: { op: 'list' } })
    expect(parseRouterRequest(encodeRouterLine({ op: 'ping' }).trimEnd())).toEqual({
      ok: true,
      request: { op: 'ping' },
    })
  })

  it('refuses malformed requests with a reason', () => {
    const cases: [string, RegExp][] = [
      ['not json', /JSON object/],
      ['[1]', /JSON object/],
      ['{"op":"jump"}', /"op" must be/],
      ['{"op":"remove"}', /"session"/],
      [JSON.stringify({ ...add, session: '' }), /"session"/],
      [JSON.stringify({ ...add, header: 'bad header' }), /"header"/],
      [JSON.stringify({ ...add, value: 'a\r\nX-Evil: 1' }), /"value"/],
      [JSON.stringify({ ...add, value: ' x' }), /"value"/],
      [JSON.stringify({ ...add, targets: {} }), /"targets"/],
      [JSON.stringify({ ...add, targets: { http: 'a:1' } }), /key "http"/],
      [JSON.stringify({ ...add, targets: { '80': 'nowhere' } }), /"targets.80"/],
    ]
    for (const [line, reason] of cases) {
      const parsed = parseRouterRequest(line)
      expect(parsed.ok, line).toBe(false)
      if (!parsed.ok) expect(parsed.message, line).toMatch(reason)
    }
  })

  it('parses replies and rejects what is not one', () => {
    const { op: _op, ...route } = add
    expect(parseRouterReply('{"ok":true}')).toEqual({ ok: true })
    expect(parseRouterReply(encodeRouterLine({ ok: true, routes: [route] }))).toEqual({
      ok: true,
      routes: [route],
    })
    expect(parseRouterReply('{"ok":false,"code":"mark-taken","message":"taken","session":"s2"}')).toEqual({
      ok: false,
      code: 'mark-taken',
      message: 'taken',
      session: 's2',
    })
    for (const line of [
      '',
      'x',
      '{"ok":"yes"}',
      '{"ok":false,"code":"other","message":"m"}',
      '{"ok":true,"routes":[{}]}',
    ])
      expect(parseRouterReply(line), line).toBeUndefined()
  })
})
