/**
 * Runs journalled undo steps, both for a live session (its CleanupStack) and for `ktx clean`
 * after a crash, so the two paths cannot drift apart.
 */
import type { CleanupStack } from '../util/cleanup-stack.js'
import { ExternalCommandError, type HostError, messageOf } from '../errors.js'
import { formatCommand, tail } from '../exec/run.js'
import type { Logger } from '../logger.js'
import type { Host } from './host.js'
import {
  type Journal,
  type JournalCluster,
  type JournalEntry,
  type UndoOp,
  listJournals,
  saveRemaining,
} from './journal.js'
import { findProcesses, isSameProcessAlive, killProcess } from './process.js'

/** What running one undo step did. */
export type UndoOutcome = { readonly done: true } | { readonly done: false; readonly reason: string }

/**
 * Runs one undo step. Idempotent: undoing a change that is already gone succeeds.
 * A file that someone else rewrote since ktx wrote it is left alone (outcome `done: false`).
 * @throws ExternalCommandError when an undo command fails for another reason.
 */
export async function runUndo(host: Host, undo: UndoOp, signal?: AbortSignal): Promise<UndoOutcome> {
  if (undo.op === 'restore-file' || undo.op === 'remove-block') {
    // Both read the file, decide, and write it back: nobody else in ktx may write in between.
    const lock = await host.lockFile(undo.path, signal ? { signal } : {})
    try {
      return await rewriteUndo(host, undo)
    } finally {
      await lock.close()
    }
  }
  switch (undo.op) {
    case 'run': {
      const [command = '', ...args] = undo.argv
      const result = await host.run(command, args, { check: false, ...(signal ? { signal } : {}) })
      if (result.exitCode === 0) return { done: true }
      const output = `${result.stderr}\n${result.stdout}`
      if (undo.alreadyDone?.some((text) => output.includes(text))) return { done: true }
      throw new ExternalCommandError(
        `${formatCommand(command, args)} exited with code ${result.exitCode}: ${tail(result.stderr)}`,
        { command, args, exitCode: result.exitCode, stderrTail: tail(result.stderr) },
      )
    }
    case 'remove-file': {
      const current = await host.readFile(undo.path)
      if (!current) return { done: true }
      if (!current.equals(Buffer.from(undo.written, 'base64'))) {
        return {
          done: false,
          reason: `${undo.path} was changed by something else since ktx wrote it; left as is`,
        }
      }
      await host.removeFile(undo.path)
      return { done: true }
    }
    case 'kill': {
      const targets = undo.process ? [undo.process] : await findProcesses(host, undo.argv)
      for (const target of targets) await killProcess(host, target, signal ? { signal } : {})
      return { done: true }
    }
  }
}

// The undo steps that rewrite a file; run under the file's lock.
async function rewriteUndo(
  host: Host,
  undo: Extract<UndoOp, { op: 'restore-file' | 'remove-block' }>,
): Promise<UndoOutcome> {
  switch (undo.op) {
    case 'restore-file': {
      const current = await host.readFile(undo.path)
      if (!current) return { done: false, reason: `${undo.path} no longer exists` }
      const original = Buffer.from(undo.original, 'base64')
      if (current.equals(original)) return { done: true }
      if (!current.equals(Buffer.from(undo.written, 'base64'))) {
        return {
          done: false,
          reason: `${undo.path} was changed by something else since ktx wrote it; left as is`,
        }
      }
      await host.replaceFile(undo.path, original)
      return { done: true }
    }
    case 'remove-block': {
      const current = await host.readFile(undo.path)
      if (!current) return { done: true }
      const text = current.toString('utf8')
      const without = removeBlock(text, undo.begin, undo.end)
      if (without !== text) await host.replaceFile(undo.path, without)
      return { done: true }
    }
  }
}

/**
 * Removes every block from a line equal to `begin` through the next line equal to `end`
 * (both included), keeping the file's line endings.
 */
export function removeBlock(text: string, begin: string, end: string): string {
  const lines = text.split(/(?<=\n)/)
  const out: string[] = []
  let inside = false
  for (const line of lines) {
    const bare = line.replace(/\r?\n$/, '')
    if (!inside && bare === begin) inside = true
    else if (inside && bare === end) inside = false
    else if (!inside) out.push(line)
  }
  return out.join('')
}

/** What a live session needs to journal a change and register its undo. */
export interface ChangeContext {
  readonly host: Host
  readonly journal: Journal
  readonly stack: CleanupStack
  readonly logger: Logger
}

/**
 * The one way a session changes this machine: journal the undo (fsynced), make the change, then
 * register the undo on the cleanup stack. A change that throws is dropped from the journal, so a
 * failed `ip link add` can never make `clean` delete someone else's device.
 * @param liveUndo How the live session undoes it (default: run the journalled step).
 */
export async function applyChange<T>(
  ctx: ChangeContext,
  description: string,
  undo: UndoOp,
  change: () => Promise<T>,
  liveUndo?: (signal: AbortSignal) => Promise<void>,
): Promise<T> {
  const entry = await ctx.journal.record(description, undo)
  let value: T
  try {
    value = await change()
  } catch (error) {
    await ctx.journal.complete(entry)
    throw error
  }
  ctx.stack.defer(`undo ${description}`, async (signal) => {
    if (liveUndo) await liveUndo(signal)
    else {
      const outcome = await runUndo(ctx.host, undo, signal)
      if (!outcome.done) ctx.logger.warn(outcome.reason, { change: description })
    }
    await ctx.journal.complete(entry)
  })
  return value
}

/** One journal's replay by {@link replayJournals}. */
export interface ReplayedSession {
  readonly session: string
  readonly path: string
  readonly cluster?: JournalCluster
  /** Descriptions of the changes undone. */
  readonly undone: readonly string[]
  /** Changes left as they are, with the reason. */
  readonly skipped: readonly { readonly change: string; readonly reason: string }[]
  /** Changes whose undo failed; they stay in the journal for the next `clean`. */
  readonly failed: readonly { readonly change: string; readonly error: string }[]
}

/** The result of {@link replayJournals}. */
export interface ReplayReport {
  readonly replayed: readonly ReplayedSession[]
  /** Sessions whose ktx process still runs; left alone. */
  readonly live: readonly string[]
  /** Journal files that could not be read. */
  readonly unreadable: readonly { readonly path: string; readonly error: string }[]
  /** Journals another user could have written (`KTX_JOURNAL_UNTRUSTED`), left untouched. */
  readonly refused: readonly HostError[]
}

/**
 * Undoes the journal of every session whose owning process is gone, newest change first. Journals
 * of running sessions are not touched. With `dryRun` nothing is changed and every entry is
 * reported as `undone` (what would be done).
 */
export async function replayJournals(
  host: Host,
  stateDir: string,
  options: { dryRun?: boolean; signal?: AbortSignal } = {},
): Promise<ReplayReport> {
  const { journals, unreadable, refused } = await listJournals(stateDir)
  const replayed: ReplayedSession[] = []
  const live: string[] = []
  for (const stored of journals) {
    if (await isSameProcessAlive(host, stored.file.owner)) {
      live.push(stored.file.session)
      continue
    }
    const undone: string[] = []
    const skipped: { change: string; reason: string }[] = []
    const failed: { change: string; error: string }[] = []
    const remaining: JournalEntry[] = []
    for (const entry of [...stored.file.entries].reverse()) {
      if (options.dryRun) {
        undone.push(entry.description)
        continue
      }
      try {
        const outcome = await runUndo(host, entry.undo, options.signal)
        if (outcome.done) undone.push(entry.description)
        else skipped.push({ change: entry.description, reason: outcome.reason })
      } catch (error) {
        failed.push({ change: entry.description, error: messageOf(error) })
        remaining.unshift(entry)
      }
    }
    if (!options.dryRun) await saveRemaining(stored, remaining)
    replayed.push({
      session: stored.file.session,
      path: stored.path,
      ...(stored.file.cluster ? { cluster: stored.file.cluster } : {}),
      undone,
      skipped,
      failed,
    })
  }
  return { replayed, live, unreadable, refused }
}
