import { describe, expect, it } from 'vitest'

import { type HeaderReader, RouteTable } from './route-table.js'

function headers(values: Record<string, string | string[]>): HeaderReader {
  return (name) => values[name]
}

const alice = { session: 'alice', header: 'Version', value: 'a', targets: { '80': '127.0.0.1:3001' } }
const bob = {
  session: 'bob',
  header: 'version',
  value: 'b',
  targets: { '80': '127.0.0.1:3002', '81': '127.0.0.1:3003' },
}

describe('RouteTable', () => {
  it('matches the header name case-insensitively and the value exactly, per port', () => {
    const table = new RouteTable([80, 81])
    expect(table.add({}, alice)).toEqual({ ok: true })
    expect(table.add({}, bob)).toEqual({ ok: true })
    expect(table.match(80, headers({ version: 'a' }))).toBe('127.0.0.1:3001')
    expect(table.match(80, headers({ version: 'b' }))).toBe('127.0.0.1:3002')
    expect(table.match(81, headers({ version: 'b' }))).toBe('127.0.0.1:3003')
    // Alice did not mesh port 81, a different value, a different case, no header: the fallback.
    expect(table.match(81, headers({ version: 'a' }))).toBeUndefined()
    expect(table.match(80, headers({ version: 'A' }))).toBeUndefined()
    expect(table.match(80, headers({ version: 'a, b' }))).toBeUndefined()
    expect(table.match(80, headers({}))).toBeUndefined()
    // A repeated header matches on any of its values.
    expect(table.match(80, headers({ version: ['zzz', 'b'] }))).toBe('127.0.0.1:3002')
  })

  it('refuses a mark another session holds, naming it, and lets the holder retarget it', () => {
    const table = new RouteTable([80])
    const first = {}
    table.add(first, alice)
    const taken = table.add({}, { ...alice, session: 'carol', header: 'VERSION' })
    expect(taken).toMatchObject({ ok: false, code: 'mark-taken', session: 'alice' })
    if (!taken.ok) expect(taken.message).toMatch(/already routed to session alice/)
    const second = {}
    expect(table.add(second, { ...alice, targets: { '80': '127.0.0.1:4000' } })).toEqual({ ok: true })
    expect(table.match(80, headers({ version: 'a' }))).toBe('127.0.0.1:4000')
    // The route now lives with the connection that last added it.
    expect(table.removeOwner(first)).toBe(0)
    expect(table.removeOwner(second)).toBe(1)
    expect(table.list()).toEqual([])
  })

  it('refuses a target on a port the router does not listen on', () => {
    const table = new RouteTable([80])
    const outcome = table.add({}, { ...alice, targets: { '8080': '127.0.0.1:1' } })
    expect(outcome).toMatchObject({ ok: false, code: 'unknown-port' })
    expect(table.list()).toEqual([])
  })

  it('removes by session and by owner, and stops matching a header nobody routes on', () => {
    const table = new RouteTable([80, 81])
    const connection = {}
    table.add(connection, alice)
    table.add(connection, { ...alice, header: 'x-dev', value: 'a' })
    table.add({}, bob)
    expect(table.list().map((route) => `${route.session}:${route.header}`)).toEqual([
      'alice:Version',
      'alice:x-dev',
      'bob:version',
    ])
    expect(table.removeSession('bob')).toBe(1)
    expect(table.match(80, headers({ version: 'b' }))).toBeUndefined()
    expect(table.match(80, headers({ 'x-dev': 'a' }))).toBe('127.0.0.1:3001')
    expect(table.removeOwner(connection)).toBe(2)
    const asked: string[] = []
    table.add({}, bob)
    table.match(80, (name) => {
      asked.push(name)
      return undefined
    })
    expect(asked).toEqual(['version'])
  })

  it('keeps its own copy of the targets', () => {
    const table = new RouteTable([80])
    const targets: Record<string, string> = { '80': '127.0.0.1:3001' }
    table.add({}, { ...alice, targets })
    targets['80'] = '127.0.0.1:9'
    expect(table.match(80, headers({ version: 'a' }))).toBe('127.0.0.1:3001')
  })
})
