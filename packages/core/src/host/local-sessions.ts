/**
 * The local register of running ktx sessions: each session a ktx process holds writes
 * `<stateDir>/sessions/<id>.json` when it is ready and removes it when it ends. A process killed
 * with -9 leaves its file behind; the record keeps the process identity (pid and start time, so a
 * reused pid does not pass for it), and readers treat a record whose process is gone as stale.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import type { Host } from './host.js'
import { type ProcessIdentity, identify, isSameProcessAlive } from './process.js'

/** What one running session says about itself. */
export interface LocalSessionRecord {
  readonly id: string
  readonly verb: 'connect' | 'exchange' | 'mesh' | 'preview'
  readonly process: ProcessIdentity
  readonly namespace: string
  /** Kubeconfig context, when known. */
  readonly context?: string
  /** What the session works on: the Service (exchange/mesh/preview), or the mode (connect). */
  readonly target: string
  /** Local ports, each `what port` (`socks 1080`, `8080→80`). */
  readonly ports: readonly string[]
  /** ISO time the session became ready. */
  readonly startedAt: string
  readonly state: 'ready' | 'degraded' | 'closing'
}

/** The register's directory under a state directory. */
export function sessionsDir(stateDir: string): string {
  return join(stateDir, 'sessions')
}

/** A written record; {@link close} removes it. */
export interface LocalSessionFile {
  readonly path: string
  /** Rewrites the record's state (e.g. `closing` while it tears down). */
  setState(state: LocalSessionRecord['state']): Promise<void>
  /** Removes the record (a missing file counts as done). */
  close(): Promise<void>
}

/** Writes the record for this process's session `record.id`. */
export async function writeLocalSession(
  host: Host,
  stateDir: string,
  record: Omit<LocalSessionRecord, 'process' | 'state'>,
): Promise<LocalSessionFile> {
  const dir = sessionsDir(stateDir)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, `${record.id}.json`)
  const full: LocalSessionRecord = { ...record, process: await identify(host, process.pid), state: 'ready' }
  const write = async (value: LocalSessionRecord): Promise<void> => {
    // Write-then-rename: a reader never sees half a record.
    const temporary = `${path}.tmp`
    await writeFile(temporary, `${JSON.stringify(value)}\n`, { mode: 0o600 })
    await rename(temporary, path)
  }
  await write(full)
  // One change at a time, so a state rewrite in flight cannot bring the file back after close.
  let last: Promise<void> = Promise.resolve()
  let closed = false
  const queue = (change: () => Promise<void>): Promise<void> => {
    last = last.then(change, change)
    return last
  }
  return {
    path,
    setState: (state) => queue(() => (closed ? Promise.resolve() : write({ ...full, state }))),
    close: () => {
      closed = true
      return queue(() => rm(path, { force: true }))
    },
  }
}

/** The records found, split by whether their process still runs. */
export interface LocalSessionScan {
  readonly live: readonly LocalSessionRecord[]
  /** Records of processes that are gone (killed); their files. */
  readonly stale: readonly { readonly record: LocalSessionRecord; readonly path: string }[]
  /** Files that are not records (left by something else, or cut short). */
  readonly unreadable: readonly string[]
}

/** Reads every record; none (no directory) is an empty scan. */
export async function scanLocalSessions(host: Host, stateDir: string): Promise<LocalSessionScan> {
  const dir = sessionsDir(stateDir)
  let names: string[]
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { live: [], stale: [], unreadable: [] }
    throw error
  }
  const live: LocalSessionRecord[] = []
  const stale: { record: LocalSessionRecord; path: string }[] = []
  const unreadable: string[] = []
  for (const name of names) {
    const path = join(dir, name)
    const record = await readRecord(path)
    if (record === undefined) unreadable.push(path)
    else if (await isSameProcessAlive(host, record.process)) live.push(record)
    else stale.push({ record, path })
  }
  return { live, stale, unreadable }
}

async function readRecord(path: string): Promise<LocalSessionRecord | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<LocalSessionRecord>
    const ok =
      typeof value.id === 'string' &&
      typeof value.verb === 'string' &&
      typeof value.process?.pid === 'number' &&
      typeof value.process.startedAt === 'string' &&
      typeof value.namespace === 'string' &&
      typeof value.startedAt === 'string' &&
      Array.isArray(value.ports)
    return ok ? (value as LocalSessionRecord) : undefined
  } catch {
    return undefined
  }
}
