/**
 * The host journal: every change ktx makes to this machine (TUN device, routes, resolver, hosts
 * file, the tun2socks process) is written here, and fsynced, *before* it is made, together with
 * the data needed to undo it. A session undoes its entries on close; after a crash (`kill -9`)
 * `ktx clean` replays the undo of every journal whose process is gone.
 *
 * One JSON file per session: `<stateDir>/journal/<session>.json`. Undo steps are data
 * ({@link UndoOp}), not code, so a later ktx process can run them. Since those are commands and
 * file writes that `ktx clean` runs (as root), a journal is only read when only root (or, not as
 * root, this user) could have written it: see host/trust.ts. As root the state directory is
 * `/var/lib/ktx` (host/state-dir.ts), not a home directory another user may own.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { HostError, messageOf } from '../errors.js'
import type { ProcessIdentity } from './process.js'
import { trustProblem } from './trust.js'

/** How to undo one change. Each op is idempotent: undoing what never happened is a no-op. */
export type UndoOp =
  /** Run a command; a failure whose stderr contains one of `alreadyDone` counts as success. */
  | { readonly op: 'run'; readonly argv: readonly string[]; readonly alreadyDone?: readonly string[] }
  /** Put a file's original bytes back, but only if it still holds what ktx wrote. */
  | {
      readonly op: 'restore-file'
      readonly path: string
      readonly original: string
      readonly written: string
    }
  /** Delete a file ktx created, but only if it still holds what ktx wrote. */
  | { readonly op: 'remove-file'; readonly path: string; readonly written: string }
  /** Remove a marked block (`begin` … `end` lines) from a file. */
  | { readonly op: 'remove-block'; readonly path: string; readonly begin: string; readonly end: string }
  /**
   * End a process: the one `process` identifies if it still runs, else every process whose
   * command line is exactly `argv` (recorded before the spawn, when no pid exists yet).
   */
  | { readonly op: 'kill'; readonly argv: readonly string[]; readonly process?: ProcessIdentity }

/** One journalled change. */
export interface JournalEntry {
  readonly id: string
  /** What was changed, e.g. `route 10.96.0.0/16 dev ktx0`. */
  readonly description: string
  readonly undo: UndoOp
}

/** The cluster side of a session, so `clean` can remove its objects after a crash. */
export interface JournalCluster {
  readonly context: string
  readonly namespace: string
  readonly server: string
}

/** The file's content. */
export interface JournalFile {
  readonly version: 1
  readonly session: string
  /** The ktx process that owns the session; while it runs, `clean` leaves the journal alone. */
  readonly owner: ProcessIdentity
  readonly createdAt: string
  readonly cluster?: JournalCluster
  /** Changes in the order they were made; undo runs them backwards. */
  readonly entries: readonly JournalEntry[]
}

/** Options of {@link openJournal}. */
export interface OpenJournalOptions {
  /** ktx's state directory, e.g. `~/.ktx`. The journal lives in `<stateDir>/journal/`. */
  readonly stateDir: string
  readonly session: string
  readonly owner: ProcessIdentity
  readonly cluster?: JournalCluster
}

/** A session's open journal. */
export interface Journal {
  readonly path: string
  /** Persists an entry (fsynced) and returns it; call before making the change. */
  record(description: string, undo: UndoOp): Promise<JournalEntry>
  /** Drops an entry: its change was undone, or never happened. */
  complete(entry: JournalEntry): Promise<void>
  /** Entries not yet completed, oldest first. */
  readonly entries: readonly JournalEntry[]
  /** Deletes the file when no entries are left (otherwise keeps it for `ktx clean`). */
  close(): Promise<void>
}

/** `<stateDir>/journal`. */
export function journalDir(stateDir: string): string {
  return join(stateDir, 'journal')
}

/**
 * Creates the session's journal file (and its directory, mode 0700).
 * @throws HostError `KTX_JOURNAL_FAILED` when the state directory cannot be written;
 *   `KTX_JOURNAL_UNTRUSTED` when another user could change it (see {@link untrustedError}).
 */
export async function openJournal(options: OpenJournalOptions): Promise<Journal> {
  const dir = journalDir(options.stateDir)
  const path = join(dir, `${options.session}.json`)
  let state: JournalFile = {
    version: 1,
    session: options.session,
    owner: options.owner,
    createdAt: new Date().toISOString(),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    entries: [],
  }
  let problem: string | undefined
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    problem = await trustProblem(dir)
  } catch (error) {
    throw journalError(path, error)
  }
  // A journal another user can edit would let them choose what a later `ktx clean` runs.
  if (problem !== undefined) throw untrustedError(dir, problem)
  try {
    await writeDurably(path, state)
  } catch (error) {
    throw journalError(path, error)
  }
  // Writes are serialised so entries never overtake each other on disk.
  let queue: Promise<void> = Promise.resolve()
  const save = (next: JournalFile): Promise<void> => {
    const write = queue.then(() => writeDurably(path, next))
    queue = write.catch(() => undefined)
    return write.catch((error: unknown) => {
      throw journalError(path, error)
    })
  }
  return {
    path,
    get entries() {
      return state.entries
    },
    async record(description, undo) {
      const entry: JournalEntry = { id: randomBytes(4).toString('hex'), description, undo }
      state = { ...state, entries: [...state.entries, entry] }
      await save(state)
      return entry
    },
    async complete(entry) {
      state = { ...state, entries: state.entries.filter((e) => e.id !== entry.id) }
      await save(state)
    },
    async close() {
      await queue
      if (state.entries.length === 0) await rm(path, { force: true })
    },
  }
}

/** A journal found on disk. */
export interface StoredJournal {
  readonly path: string
  readonly file: JournalFile
}

/** What {@link listJournals} found. */
export interface JournalListing {
  readonly journals: StoredJournal[]
  /** Files that could not be read or are not journals. */
  readonly unreadable: { path: string; error: string }[]
  /** Journals another user could have written: never replayed (`KTX_JOURNAL_UNTRUSTED`). */
  readonly refused: HostError[]
}

/**
 * Every trusted journal under `<stateDir>/journal`, oldest first. Unreadable and untrusted files are
 * returned apart, never replayed.
 * @throws HostError `KTX_JOURNAL_UNTRUSTED` when the directory itself (or one above) is untrusted.
 */
export async function listJournals(stateDir: string): Promise<JournalListing> {
  const dir = journalDir(stateDir)
  let names: string[]
  let dirProblem: string | undefined
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json'))
    dirProblem = await trustProblem(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { journals: [], unreadable: [], refused: [] }
    throw journalError(dir, error)
  }
  if (dirProblem !== undefined) throw untrustedError(dir, dirProblem)
  const journals: StoredJournal[] = []
  const unreadable: { path: string; error: string }[] = []
  const refused: HostError[] = []
  for (const name of names) {
    const path = join(dir, name)
    try {
      const problem = await trustProblem(path)
      if (problem !== undefined) {
        refused.push(untrustedError(path, problem))
        continue
      }
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { version?: unknown; entries?: unknown }
      if (parsed.version !== 1 || !Array.isArray(parsed.entries)) {
        throw new HostError('KTX_JOURNAL_INVALID', 'not a ktx journal (version 1)')
      }
      journals.push({ path, file: parsed as JournalFile })
    } catch (error) {
      unreadable.push({ path, error: messageOf(error) })
    }
  }
  journals.sort((a, b) => a.file.createdAt.localeCompare(b.file.createdAt))
  return { journals, unreadable, refused }
}

/** Rewrites a stored journal with the entries still left, or deletes it when none are. */
export async function saveRemaining(stored: StoredJournal, entries: readonly JournalEntry[]): Promise<void> {
  if (entries.length === 0) {
    await rm(stored.path, { force: true })
    return
  }
  await writeDurably(stored.path, { ...stored.file, entries })
}

// Write a temp file, fsync it, rename it over the journal and fsync the directory: after a crash
// the journal is either the old or the new version, never a torn one.
async function writeDurably(path: string, content: JournalFile): Promise<void> {
  const temp = `${path}.${randomBytes(3).toString('hex')}.tmp`
  const handle = await open(temp, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
  const dir = await open(join(path, '..'), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

/**
 * A journal (or its directory) that another user could have written: replaying it would run their
 * commands as root.
 */
export function untrustedError(path: string, problem: string): HostError {
  return new HostError(
    'KTX_JOURNAL_UNTRUSTED',
    `Refusing the host journal ${path}: ${problem}; its undo steps are commands and file writes ktx would run`,
    {
      suggestions: [
        `If ktx wrote it, give it back to root (to yourself when not running as root) and take group/others' write access: chown root:root ${path} && chmod go-w ${path}; the same for a directory named above. Then run the command again.`,
        `If you did not, look at what it would run and delete it: cat ${path}`,
      ],
      data: { path, problem },
    },
  )
}

function journalError(path: string, cause: unknown): HostError {
  return new HostError('KTX_JOURNAL_FAILED', `Cannot write the host journal ${path}: ${messageOf(cause)}`, {
    cause,
    suggestions: [
      'ktx records every change to this machine there before making it; check that the directory is writable.',
    ],
  })
}
