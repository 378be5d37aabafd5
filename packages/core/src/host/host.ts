/**
 * What core needs from this machine to change its network: run a tool, read and rewrite a file in
 * place, know the platform and whether it runs elevated. Injected everywhere so tests can record
 * the exact `ip` argv (see `RecordingHost` in `@ktx/core/testing`).
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

import { type CommandResult, type RunCommandOptions, runCommand } from '../exec/run.js'

/** This machine, as the network layer sees it. */
export interface Host {
  readonly platform: NodeJS.Platform
  /** Runs a command (see {@link runCommand}); throws `ExternalCommandError` on failure. */
  run(command: string, args: readonly string[], options?: RunCommandOptions): Promise<CommandResult>
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>
  /**
   * Replaces a file's content in place (same inode) and fsyncs it. In place matters: resolv.conf
   * is often a bind mount or a symlink target that a rename would break. The file must exist.
   */
  writeFileInPlace(path: string, data: Buffer | string): Promise<void>
  /** Creates a new file (and its directory); fails if the file exists. fsynced. */
  writeNewFile(path: string, data: Buffer | string): Promise<void>
  /** Deletes a file; a missing file is fine. */
  removeFile(path: string): Promise<void>
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
    async writeFileInPlace(path, data) {
      const handle = await open(path, 'r+')
      try {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
        // Write first, then cut to length: a crash in between never leaves an empty file.
        await handle.write(bytes, 0, bytes.length, 0)
        await handle.truncate(bytes.length)
        await handle.sync()
      } finally {
        await handle.close()
      }
    },
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
