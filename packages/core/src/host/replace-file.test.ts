import {
  chmod,
  lstat,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { replaceFile } from './replace-file.js'

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ktx-replace-'))
}

describe('replaceFile', () => {
  it('puts a new file in place by rename: new inode, same mode, no temp file left', async () => {
    const d = await dir()
    const path = join(d, 'hosts')
    await writeFile(path, 'a'.repeat(1000))
    await chmod(path, 0o640)
    const before = await stat(path)
    await replaceFile(path, 'short\n')
    const after = await stat(path)
    expect(await readFile(path, 'utf8')).toBe('short\n')
    // A rename, not a rewrite: readers holding the old file see all of the old bytes.
    expect(after.ino).not.toBe(before.ino)
    expect(after.mode & 0o7777).toBe(0o640)
    expect(after.uid).toBe(before.uid)
    expect(await readdir(d)).toEqual(['hosts'])
  })

  it('replaces the target of a symlink and keeps the link', async () => {
    const d = await dir()
    const target = join(d, 'stub-resolv.conf')
    const link = join(d, 'resolv.conf')
    await writeFile(target, 'nameserver 127.0.0.53\n')
    await symlink(target, link)
    await replaceFile(link, 'nameserver 127.0.0.2\n')
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
    expect(await readlink(link)).toBe(target)
    expect(await readFile(target, 'utf8')).toBe('nameserver 127.0.0.2\n')
    expect((await readdir(d)).sort()).toEqual(['resolv.conf', 'stub-resolv.conf'])
  })

  it('fails on a missing file and leaves nothing behind', async () => {
    const d = await dir()
    await expect(replaceFile(join(d, 'missing'), 'x')).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await readdir(d)).toEqual([])
  })

  it('a reader never sees a mix of old and new bytes', async () => {
    const d = await dir()
    const path = join(d, 'hosts')
    const long = 'o'.repeat(256 * 1024)
    const short = 'n'.repeat(64 * 1024)
    await writeFile(path, long)
    const done = { stop: false }
    const seen = new Set<string>()
    const reader = (async () => {
      while (!done.stop) {
        const text = await readFile(path, 'utf8')
        seen.add(text === long ? 'old' : text === short ? 'new' : 'mixed')
      }
    })()
    for (let i = 0; i < 100; i++) await replaceFile(path, i % 2 === 0 ? short : long)
    done.stop = true
    await reader
    expect(seen.has('mixed')).toBe(false)
  })
})
