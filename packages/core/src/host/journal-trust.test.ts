/**
 * `ktx clean` as root replays journals, i.e. runs their argv and rewrites their paths: a journal
 * another user could write must never be replayed.
 */
import { chmod, chown, mkdir, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { realHost } from './host.js'
import { type JournalFile, journalDir, openJournal } from './journal.js'
import { hostStateDir, systemStateDir } from './state-dir.js'
import { RecordingHost } from '../testing/recording-host.js'
import { replayJournals } from './undo.js'

const asRoot = process.getuid?.() === 0

// A journal of a dead session whose one undo step would create `marker`.
async function plantJournal(dir: string, marker: string): Promise<string> {
  await mkdir(journalDir(dir), { recursive: true, mode: 0o700 })
  const path = join(journalDir(dir), 'planted.json')
  const file: JournalFile = {
    version: 1,
    session: 'planted',
    owner: { pid: 999_999, startedAt: 'gone' },
    createdAt: new Date().toISOString(),
    entries: [{ id: '1', description: 'innocent route', undo: { op: 'run', argv: ['touch', marker] } }],
  }
  await writeFile(path, JSON.stringify(file), { mode: 0o600 })
  return path
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

describe('journal trust', () => {
  it('replays a journal only this user or root could write, and refuses a group-writable one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ktx-jtrust-'))
    const marker = join(dir, 'ran')
    const path = await plantJournal(dir, marker)
    await chmod(path, 0o620)
    const refused = await replayJournals(realHost(), dir)
    expect(refused.replayed).toEqual([])
    expect(refused.refused.map((e) => [e.code, e.message])).toEqual([
      [
        'KTX_JOURNAL_UNTRUSTED',
        `Refusing the host journal ${path}: ${path} is writable by its group (mode 0620); its undo steps are commands and file writes ktx would run`,
      ],
    ])
    expect(refused.refused[0]?.suggestions[0]).toContain(`chmod go-w ${path}`)
    expect(await exists(marker)).toBe(false)
    // Fixed as the suggestion says, it is replayed.
    await chmod(path, 0o600)
    const replayed = await replayJournals(realHost(), dir)
    expect(replayed.replayed.map((s) => s.undone)).toEqual([['innocent route']])
    expect(await exists(marker)).toBe(true)
    expect(await readdir(journalDir(dir))).toEqual([])
  })

  it.skipIf(!asRoot)('as root, refuses a journal owned by another user and leaves it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ktx-jtrust-'))
    const marker = join(dir, 'ran')
    const path = await plantJournal(dir, marker)
    await chown(path, 1000, 1000)
    const report = await replayJournals(realHost(), dir)
    expect(report.refused.map((e) => e.code)).toEqual(['KTX_JOURNAL_UNTRUSTED'])
    expect(report.refused[0]?.message).toContain(`${path} is owned by uid 1000, not by root`)
    expect(await exists(marker)).toBe(false)
    expect(await readdir(journalDir(dir))).toEqual(['planted.json'])
  })

  it.skipIf(!asRoot)('as root, refuses a whole journal directory that another user owns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ktx-jtrust-'))
    const marker = join(dir, 'ran')
    await plantJournal(dir, marker)
    await chown(journalDir(dir), 1000, 1000)
    await expect(replayJournals(realHost(), dir)).rejects.toMatchObject({ code: 'KTX_JOURNAL_UNTRUSTED' })
    await expect(
      openJournal({ stateDir: dir, session: 's', owner: { pid: 1, startedAt: 'x' } }),
    ).rejects.toMatchObject({ code: 'KTX_JOURNAL_UNTRUSTED' })
    expect(await exists(marker)).toBe(false)
  })

  it('keeps the journal under a root-only directory as root, per user otherwise', () => {
    const root = new RecordingHost('linux')
    expect(hostStateDir(root)).toBe('/var/lib/ktx')
    expect(hostStateDir(new RecordingHost('darwin'))).toBe(systemStateDir('darwin'))
    expect(systemStateDir('darwin')).toBe('/var/db/ktx')
    const user = new RecordingHost('linux')
    user.elevated = false
    expect(hostStateDir(user)).toMatch(/\.ktx$/)
  })
})
