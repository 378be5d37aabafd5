/**
 * Two ktx processes changing the same hosts file: each one's read-modify-write runs under ktx's
 * lock of the file, so no process's block is lost to another's write (real processes, real files).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { hostsMarkers } from '@ktx/core/dns'
import { describe, expect, it } from 'vitest'

const WRITERS = 4
const ROUNDS = 25

// One writer process: rewrites its own session's block ROUNDS times, each time with one more entry.
const writer = `
const { realHost } = await import('@ktx/core/net')
const { updateHostsBlock } = await import('@ktx/core/dns')
const [path, session, rounds] = process.argv.slice(1)
const host = realHost()
for (let i = 1; i <= Number(rounds); i++) {
  const entries = Array.from({ length: i }, (_, n) => ({ ip: '10.96.0.' + (n + 1), names: [session + '-' + n] }))
  await updateHostsBlock(host, path, session, entries)
}
`

function runWriter(path: string, session: string): Promise<number | null> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', writer, path, session, String(ROUNDS)],
    {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  return new Promise((resolve) => child.on('exit', resolve))
}

describe('hosts file with concurrent ktx processes', () => {
  it('keeps every process’s last block and the other lines, and leaves no lock or temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ktx-hosts-'))
    const path = join(dir, 'hosts')
    const original = '127.0.0.1 localhost\n::1 localhost\n'
    await writeFile(path, original)
    const sessions = Array.from({ length: WRITERS }, (_, i) => `s${i}`)
    const codes = await Promise.all(sessions.map((s) => runWriter(path, s)))
    expect(codes).toEqual(sessions.map(() => 0))
    const text = await readFile(path, 'utf8')
    expect(text.startsWith(original)).toBe(true)
    for (const session of sessions) {
      const { begin, end } = hostsMarkers(session)
      const block = text.slice(text.indexOf(begin), text.indexOf(end))
      expect(block.split('\n').filter((line) => line.startsWith('10.96.'))).toHaveLength(ROUNDS)
    }
    expect(await readdir(dir)).toEqual(['hosts'])
  })
})
