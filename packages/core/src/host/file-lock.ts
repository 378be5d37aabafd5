/**
 * An advisory lock on a file ktx rewrites (the hosts file), so two ktx processes never interleave
 * their read-modify-write. The lock is `<file>.ktx-lock`, created atomically with the holder's pid
 * in it (written to a temp file, then hard-linked into place, so nobody ever sees it empty). A lock
 * whose pid no longer runs is stale (its holder crashed) and is taken over.
 */
import { randomBytes } from 'node:crypto'
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises'

import { HostError } from '../errors.js'
import { sleep } from '../util/sleep.js'

/** A held lock. */
export interface FileLock {
  /** The lock file. */
  readonly path: string
  /** Releases it (only if it is still this holder's). Idempotent. */
  close(): Promise<void>
}

/** Options of {@link lockFile}. */
export interface LockFileOptions {
  /** How long to wait for another holder. Default 10 000 ms. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

/** `<file>.ktx-lock`. */
export function lockPathOf(file: string): string {
  return `${file}.ktx-lock`
}

/**
 * Takes the lock of `file`, waiting while another live process holds it.
 * @throws HostError `KTX_FILE_LOCKED` naming the holder when the wait runs out.
 */
export async function lockFile(file: string, options: LockFileOptions = {}): Promise<FileLock> {
  const path = lockPathOf(file)
  const token = `${process.pid} ${randomBytes(6).toString('hex')}\n`
  const timeoutMs = options.timeoutMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    options.signal?.throwIfAborted()
    if (await tryCreate(path, token)) return held(path, token)
    const holder = await readHolder(path)
    if (holder !== undefined && !isAlive(holder.pid)) {
      await takeOverStale(path, holder.content)
      continue
    }
    if (Date.now() >= deadline) {
      throw new HostError(
        'KTX_FILE_LOCKED',
        `${file} is being changed by another ktx process (pid ${holder?.pid ?? 'unknown'}, lock ${path}); waited ${timeoutMs} ms`,
        {
          suggestions: [
            'Wait for the other ktx command to finish, then run this one again.',
            `If no ktx runs any more (the pid was reused by another program), delete ${path}.`,
          ],
          data: { file, lock: path, pid: holder?.pid },
        },
      )
    }
    // Polled: a lock file has no event to wait on that works the same on every platform.
    await sleep(delay, options.signal)
  }
}

// The token goes to a temp file first and is hard-linked to the lock path: link(2) fails if the
// lock exists, and the lock appears with its content complete.
async function tryCreate(path: string, token: string): Promise<boolean> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temp, token, { mode: 0o644, flag: 'wx' })
  try {
    await link(temp, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await rm(temp, { force: true })
  }
}

async function readHolder(path: string): Promise<{ pid: number; content: string } | undefined> {
  let content: string
  try {
    content = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const pid = Number(content.split(' ')[0])
  return Number.isInteger(pid) && pid > 0 ? { pid, content } : undefined
}

// Moves the stale lock aside (only one taker's rename succeeds), then checks that what was moved
// is the stale lock: if a live holder took it meanwhile, its lock is put back.
async function takeOverStale(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.${randomBytes(4).toString('hex')}.stale`
  try {
    await rename(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  try {
    if ((await readFile(aside, 'utf8')) !== staleContent) {
      await link(aside, path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      })
    }
  } finally {
    await rm(aside, { force: true })
  }
}

function held(path: string, token: string): FileLock {
  let released: Promise<void> | undefined
  return {
    path,
    close() {
      released ??= (async () => {
        const current = await readFile(path, 'utf8').catch(() => undefined)
        if (current === token) await rm(path, { force: true })
      })()
      return released
    },
  }
}

// Signal 0 checks existence: ESRCH is gone; EPERM is alive but someone else's.
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
