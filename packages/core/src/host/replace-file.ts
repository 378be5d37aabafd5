/**
 * Replacing a system file (hosts, resolv.conf) so that a crash never leaves a mix of old and new
 * bytes: the new content goes to a temp file beside it with the same mode and owner, is fsynced,
 * and is renamed over the file. A symlink stays a symlink: the file it points to is replaced.
 */
import { randomBytes } from 'node:crypto'
import { open, realpath, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

// rename(2) over a mount point fails with EBUSY (a bind-mounted /etc/resolv.conf in a container or
// `ip netns exec`); EXDEV when the temp file's directory is another file system. Such a file can
// only be rewritten in place.
const CANNOT_RENAME_OVER = new Set(['EBUSY', 'EXDEV'])

/**
 * Replaces an existing file's content atomically (same mode and owner). Where the file cannot be
 * renamed over (a mount point), it is rewritten in place instead, the only way to change it there.
 * @throws the file system's error (ENOENT when the file does not exist).
 */
export async function replaceFile(path: string, data: Buffer | string): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  const target = await realpath(path)
  const info = await stat(target)
  const temp = join(dirname(target), `.${basename(target)}.ktx-${randomBytes(4).toString('hex')}`)
  const mode = info.mode & 0o7777
  const handle = await open(temp, 'wx', mode)
  let keepsOwner = true
  try {
    await handle.writeFile(bytes)
    // open()'s mode went through the umask; set it exactly.
    await handle.chmod(mode)
    keepsOwner = await chownLike(handle, info)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temp, { force: true })
    throw error
  }
  await handle.close()
  if (!keepsOwner) {
    await rm(temp, { force: true })
    await rewriteInPlace(target, bytes)
    return
  }
  try {
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true })
    if (!CANNOT_RENAME_OVER.has((error as NodeJS.ErrnoException).code ?? '')) throw error
    await rewriteInPlace(target, bytes)
    return
  }
  await syncDirectory(dirname(target))
}

// The temp file takes the original's owner; false when this process may not give it (not root):
// then only an in-place rewrite keeps the owner.
async function chownLike(
  handle: Awaited<ReturnType<typeof open>>,
  info: { uid: number; gid: number },
): Promise<boolean> {
  if (process.platform === 'win32') return true
  const own = await handle.stat()
  if (own.uid === info.uid && own.gid === info.gid) return true
  try {
    await handle.chown(info.uid, info.gid)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return false
    throw error
  }
}

// Write first, then cut to length: a crash in between never leaves an empty file (but can leave
// the new bytes followed by the old tail; only for files that cannot be renamed over).
async function rewriteInPlace(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.write(bytes, 0, bytes.length, 0)
    await handle.truncate(bytes.length)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

// The rename is durable only once the directory is: fsync it (not possible on Windows).
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
