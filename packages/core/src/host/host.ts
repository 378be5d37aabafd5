/**
 * What core needs from this machine to change its network: run a tool, read, replace and lock a
 * file, know the platform and whether it runs elevated. Injected everywhere so tests can record
 * the exact `ip` argv (see `RecordingHost` in `@ktx/core/testing`).
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

import { type CommandResult, type RunCommandOptions, runCommand } from '../exec/run.js'
import { type FileLock, type LockFileOptions, lockFile } from './file-lock.js'
import { replaceFile } from './replace-file.js'
import { trustProblem, whichCommand } from './trust.js'

/** This machine, as the network layer sees it. */
export interface Host {
  readonly platform: NodeJS.Platform
  /** Runs a command (see {@link runCommand}); throws `ExternalCommandError` on failure. */
  run(command: string, args: readonly string[], options?: RunCommandOptions): Promise<CommandResult>
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>
  /**
   * Replaces an existing file's content atomically: a temp file beside it (same mode and owner),
   * fsynced, renamed over it; a symlink's target is replaced, the link kept. A file that cannot be
   * renamed over (a bind mount, as resolv.conf in a container) is rewritten in place instead.
   */
  replaceFile(path: string, data: Buffer | string): Promise<void>
  /**
   * Takes ktx's advisory lock of `path` (`<path>.ktx-lock`), for a read-modify-write no other ktx
   * process may interleave with. @throws HostError `KTX_FILE_LOCKED` when the wait runs out.
   */
  lockFile(path: string, options?: LockFileOptions): Promise<FileLock>
  /** Creates a new file (and its directory); fails if the file exists. fsynced. */
  writeNewFile(path: string, data: Buffer | string): Promise<void>
  /** Deletes a file; a missing file is fine. */
  removeFile(path: string): Promise<void>
  /** The absolute path of `command` found on PATH, or undefined. */
  which(command: string): Promise<string | undefined>
  /**
   * Why root (or this user) should not act on `path`: owned by another user or writable by group
   * or others, the file or a directory above it (see host/trust.ts). Undefined when trusted.
   */
  trustProblem(path: string): Promise<string | undefined>
  /** Root on Unix, Administrator on Windows. */
  isElevated(): boolean
}

/** The real machine. */
export function realHost(): Host {
  return {
    platform: process.platform,
    run: runCommand,
    async readFile(path) {
      try {
        return await readFile(path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw error
      }
    },
    replaceFile,
    lockFile,
    which: whichCommand,
    trustProblem,
    async writeNewFile(path, data) {
      await mkdir(dirname(path), { recursive: true })
      const handle = await open(path, 'wx', 0o644)
      try {
        await handle.writeFile(data)
        await handle.sync()
      } finally {
        await handle.close()
      }
    },
    async removeFile(path) {
      await rm(path, { force: true })
    },
    isElevated() {
      // Windows has no uid; there the caller checks with `net session` (see net/privileges.ts).
      return typeof process.getuid === 'function' ? process.getuid() === 0 : false
    },
  }
}
