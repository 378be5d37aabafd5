import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { CleanupStack } from '../util/cleanup-stack.js'
import { startProcess } from '../exec/run.js'
import { noopLogger } from '../logger.js'
import { RecordingHost } from '../testing/recording-host.js'
import { realHost } from './host.js'
import { type JournalFile, journalDir, listJournals, openJournal } from './journal.js'
import { applyChange, removeBlock, replayJournals, runUndo } from './undo.js'

const DEAD = { pid: 999_999, startedAt: 'gone' }

async function stateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ktx-journal-'))
}

async function readJournal(path: string): Promise<JournalFile> {
  return JSON.parse(await readFile(path, 'utf8')) as JournalFile
}

describe('journal', () => {
  it('is on disk with the entry before the change is made, and gone after a clean close', async () => {
    const dir = await stateDir()
    const journal = await openJournal({ stateDir: dir, session: 's1', owner: DEAD })
    expect(journal.path).toBe(join(dir, 'journal', 's1.json'))
    const entry = await journal.record('route 10.96.0.0/16 dev ktx0', {
      op: 'run',
      argv: ['ip', 'route', 'del', '10.96.0.0/16', 'dev', 'ktx0'],
    })
    expect((await readJournal(journal.path)).entries).toEqual([entry])
    await journal.complete(entry)
    expect((await readJournal(journal.path)).entries).toEqual([])
    await journal.close()
    expect(await readdir(journalDir(dir))).toEqual([])
  })

  it('keeps the file on close while changes are left', async () => {
    const dir = await stateDir()
    const journal = await openJournal({ stateDir: dir, session: 's2', owner: DEAD })
    await journal.record('link ktx0', { op: 'run', argv: ['ip', 'link', 'del', 'ktx0'] })
    await journal.close()
    const { journals } = await listJournals(dir)
    expect(journals.map((j) => j.file.entries.length)).toEqual([1])
  })

  it('fails with KTX_JOURNAL_FAILED when the state dir cannot be written', async () => {
    const dir = await stateDir()
    await writeFile(join(dir, 'journal'), 'not a directory')
    await expect(openJournal({ stateDir: dir, session: 's', owner: DEAD })).rejects.toMatchObject({
      code: 'KTX_JOURNAL_FAILED',
    })
  })
})

describe('applyChange', () => {
  it('journals first, changes, and the stack undoes and completes the entry', async () => {
    const dir = await stateDir()
    const host = new RecordingHost()
    const journal = await openJournal({ stateDir: dir, session: 's', owner: DEAD })
    const stack = new CleanupStack()
    const ctx = { host, journal, stack, logger: noopLogger }
    let seenOnDisk = 0
    await applyChange(
      ctx,
      'route 10.96.0.0/16',
      { op: 'run', argv: ['ip', 'route', 'del', '10.96.0.0/16'] },
      async () => {
        seenOnDisk = (await readJournal(journal.path)).entries.length
        await host.run('ip', ['route', 'add', '10.96.0.0/16'])
      },
    )
    expect(seenOnDisk).toBe(1)
    await stack.unwind()
    expect(host.commands).toEqual(['ip route add 10.96.0.0/16', 'ip route del 10.96.0.0/16'])
    expect(journal.entries).toEqual([])
  })

  it('drops the entry when the change fails, so clean never undoes what ktx did not do', async () => {
    const dir = await stateDir()
    const host = new RecordingHost().on('ip tuntap add', {
      exitCode: 1,
      stderr: 'ioctl(TUNSETIFF): Device or resource busy',
    })
    const journal = await openJournal({ stateDir: dir, session: 's', owner: DEAD })
    const stack = new CleanupStack()
    await expect(
      applyChange(
        { host, journal, stack, logger: noopLogger },
        'tun ktx0',
        { op: 'run', argv: ['ip', 'link', 'del', 'ktx0'] },
        () => host.run('ip', ['tuntap', 'add', 'dev', 'ktx0', 'mode', 'tun']),
      ),
    ).rejects.toMatchObject({ code: 'KTX_COMMAND_FAILED' })
    expect(journal.entries).toEqual([])
    expect(stack.size).toBe(0)
  })
})

describe('runUndo', () => {
  it('treats "already gone" output as done and other failures as errors', async () => {
    const host = new RecordingHost()
      .on('ip route del 10.1.0.0/16', { exitCode: 2, stderr: 'RTNETLINK answers: No such process' })
      .on('ip route del 10.2.0.0/16', { exitCode: 2, stderr: 'RTNETLINK answers: Operation not permitted' })
    const op = (cidr: string) =>
      ({ op: 'run', argv: ['ip', 'route', 'del', cidr], alreadyDone: ['No such process'] }) as const
    expect(await runUndo(host, op('10.1.0.0/16'))).toEqual({ done: true })
    await expect(runUndo(host, op('10.2.0.0/16'))).rejects.toThrow(/Operation not permitted/)
  })

  it('restores a file only while it still holds what ktx wrote', async () => {
    const host = new RecordingHost().file('/etc/resolv.conf', 'ours')
    const undo = {
      op: 'restore-file',
      path: '/etc/resolv.conf',
      original: Buffer.from('original').toString('base64'),
      written: Buffer.from('ours').toString('base64'),
    } as const
    expect(await runUndo(host, undo)).toEqual({ done: true })
    expect(host.text('/etc/resolv.conf')).toBe('original')
    host.file('/etc/resolv.conf', 'rewritten by dhclient')
    expect(await runUndo(host, undo)).toEqual({
      done: false,
      reason: '/etc/resolv.conf was changed by something else since ktx wrote it; left as is',
    })
    expect(host.text('/etc/resolv.conf')).toBe('rewritten by dhclient')
  })

  it('removes a marked block and keeps everything else byte for byte', () => {
    const text = '127.0.0.1 localhost\r\n# ktx begin s\r\n10.96.0.1 web\r\n# ktx end s\r\n::1 localhost\r\n'
    expect(removeBlock(text, '# ktx begin s', '# ktx end s')).toBe('127.0.0.1 localhost\r\n::1 localhost\r\n')
    expect(removeBlock('a\nb\n', '# ktx begin s', '# ktx end s')).toBe('a\nb\n')
  })
})

describe('replayJournals', () => {
  it('undoes a dead session newest first, leaves a live one alone, and removes the file', async () => {
    const dir = await stateDir()
    const host = new RecordingHost()
      .file('/proc/4242/stat', '4242 (node) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 20')
      .on('ip link del ktx0', { exitCode: 1, stderr: 'Cannot find device "ktx0"' })
    const live = await openJournal({ stateDir: dir, session: 'live', owner: { pid: 4242, startedAt: '777' } })
    await live.record('route x', { op: 'run', argv: ['ip', 'route', 'del', 'x'] })
    const dead = await openJournal({
      stateDir: dir,
      session: 'dead',
      owner: { pid: 4242, startedAt: '111' },
      cluster: { context: 'ctx', namespace: 'ns', server: 'https://api' },
    })
    await dead.record('tun ktx0', {
      op: 'run',
      argv: ['ip', 'link', 'del', 'ktx0'],
      alreadyDone: ['Cannot find device'],
    })
    await dead.record('route 10.96.0.0/16', {
      op: 'run',
      argv: ['ip', 'route', 'del', '10.96.0.0/16', 'dev', 'ktx0'],
    })

    const report = await replayJournals(host, dir)
    expect(report.live).toEqual(['live'])
    expect(report.replayed).toEqual([
      {
        session: 'dead',
        path: dead.path,
        cluster: { context: 'ctx', namespace: 'ns', server: 'https://api' },
        undone: ['route 10.96.0.0/16', 'tun ktx0'],
        skipped: [],
        failed: [],
      },
    ])
    expect(host.commands).toEqual(['ip route del 10.96.0.0/16 dev ktx0', 'ip link del ktx0'])
    const { journals } = await listJournals(dir)
    expect(journals.map((j) => j.file.session)).toEqual(['live'])
  })

  it('keeps entries whose undo failed for the next clean, and changes nothing in a dry run', async () => {
    const dir = await stateDir()
    const host = new RecordingHost().on('ip route del', { exitCode: 2, stderr: 'Operation not permitted' })
    const journal = await openJournal({ stateDir: dir, session: 'd', owner: DEAD })
    await journal.record('link', { op: 'run', argv: ['ip', 'link', 'del', 'ktx0'] })
    await journal.record('route', { op: 'run', argv: ['ip', 'route', 'del', '10.0.0.0/8'] })

    const dry = await replayJournals(host, dir, { dryRun: true })
    expect(dry.replayed[0]?.undone).toEqual(['route', 'link'])
    expect(host.commands).toEqual([])

    const report = await replayJournals(host, dir)
    expect(report.replayed[0]?.undone).toEqual(['link'])
    expect(report.replayed[0]?.failed).toEqual([
      { change: 'route', error: 'ip route del 10.0.0.0/8 exited with code 2: Operation not permitted' },
    ])
    const { journals } = await listJournals(dir)
    expect(journals[0]?.file.entries.map((e) => e.description)).toEqual(['route'])
  })
})

describe('kill undo', () => {
  it('finds a process by its exact command line (recorded before it had a pid) and ends it', async () => {
    const marker = `${process.pid}${Date.now() % 100_000}`
    const child = await startProcess('sleep', [`${marker}.5`])
    // ps shows the argv as spawned: the bare command name plus its argument.
    expect(await runUndo(realHost(), { op: 'kill', argv: ['sleep', `${marker}.5`] })).toEqual({ done: true })
    expect((await child.exited).signal).toBe('SIGTERM')
  })
})
