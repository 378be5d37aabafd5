/**
 * Whether a file is safe for this process to act on: a file that another user can write must not
 * decide what root runs (a journal's undo argv, a tun2socks binary). Trusted means the file and
 * every directory above it are owned by root or (when not running as root) by this user, and are
 * not writable by group or others. A world-writable directory with the sticky bit (/tmp) is fine:
 * there only an entry's owner can replace it. Symlinks are followed first: the real file counts.
 *
 * Windows has no uid and mode bits worth checking (ACLs decide); there every file is trusted.
 */
import { realpath, stat } from 'node:fs/promises'
import { dirname, isAbsolute } from 'node:path'

import { runCommand } from '../exec/run.js'

// S_ISVTX; node:fs does not export it.
const STICKY = 0o1000

/** The uids whose files this process trusts: root, and itself when it is not root. */
export function trustedOwners(): readonly number[] {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0
  return uid === 0 ? [0] : [0, uid]
}

/**
 * Why `path` is not trusted (e.g. `/home/u/.ktx is owned by uid 1000`), or undefined when it is.
 * @throws the file system's error (ENOENT when it does not exist).
 */
export async function trustProblem(path: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined
  const owners = trustedOwners()
  const real = await realpath(path)
  for (let current = real; ; current = dirname(current)) {
    const info = await stat(current)
    const name = current === real && current !== path ? `${current} (${path})` : current
    if (!owners.includes(info.uid)) {
      return `${name} is owned by uid ${info.uid}, not by ${owners.map(describeUid).join(' or ')}`
    }
    const sticky = info.isDirectory() && (info.mode & STICKY) !== 0
    if ((info.mode & 0o022) !== 0 && !sticky) {
      return `${name} is writable by ${(info.mode & 0o002) !== 0 ? 'others' : 'its group'} (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`
    }
    if (dirname(current) === current) return undefined
  }
}

/**
 * The absolute path of `command` as a spawn would find it on PATH, or undefined. Asked of the
 * system's own lookup (`command -v` in sh, `where.exe`), since core does not read the environment.
 */
export async function whichCommand(command: string): Promise<string | undefined> {
  const result =
    process.platform === 'win32'
      ? await runCommand('where.exe', [command], { check: false, timeoutMs: 10_000 })
      : await runCommand('sh', ['-c', 'command -v -- "$1"', 'sh', command], {
          check: false,
          timeoutMs: 10_000,
        })
  const found = result.stdout.split(/\r?\n/)[0]?.trim() ?? ''
  // `command -v` prints a bare name for a builtin or alias: not a file on PATH.
  return result.exitCode === 0 && isAbsolute(found) ? found : undefined
}

function describeUid(uid: number): string {
  return uid === 0 ? 'root' : `uid ${uid} (you)`
}
