import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { openLogFile, teeLogger } from './logger.js'

describe('openLogFile', () => {
  it('writes every level as JSON lines with bindings, errors by message, and keeps the newest files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktx-logs-'))
    for (let i = 0; i < 12; i++)
      writeFileSync(join(dir, `ktx-2020-01-01T00-00-${String(i).padStart(2, '0')}.log`), '')
    const file = openLogFile(dir, 10)!
    file.logger.child({ component: 'tun2socks' }).debug('a line', { pid: 7 })
    file.logger.error('failed', { error: new Error('boom'), big: 10n })
    const lines = readFileSync(file.path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toMatchObject([
      { level: 'debug', msg: 'a line', component: 'tun2socks', pid: 7 },
      { level: 'error', msg: 'failed', error: { name: 'Error', message: 'boom' }, big: '10' },
    ])
    expect(readdirSync(dir)).toHaveLength(10)
  })

  it('gives up quietly when the directory cannot be made', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ktx-logs-')), 'not-a-dir')
    writeFileSync(file, '')
    expect(openLogFile(join(file, 'logs'))).toBeUndefined()
  })
})

describe('teeLogger', () => {
  it('writes to every logger, children included', () => {
    const seen: string[] = []
    const make = (name: string) => ({
      debug: (m: string) => seen.push(`${name}:${m}`),
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      child() {
        return this
      },
    })
    teeLogger(make('a'), make('b')).child({ x: 1 }).debug('hi')
    expect(seen).toEqual(['a:hi', 'b:hi'])
  })
})
