import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { isKtxError } from '../errors.js'
import { lockFile, lockPathOf } from './file-lock.js'

async function file(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ktx-lock-'))
  const path = join(d, 'hosts')
  await writeFile(path, '')
  return path
}

// The pid of a process that has exited: a lock it held is stale.
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  return Number(child.stdout.trim())
}

describe('lockFile', () => {
  it('holds the lock file with this pid, releases it on close', async () => {
    const path = await file()
    const lock = await lockFile(path)
    expect(lock.path).toBe(lockPathOf(path))
    expect((await readFile(lock.path, 'utf8')).split(' ')[0]).toBe(String(process.pid))
    await lock.close()
    await lock.close()
    expect(await readdir(join(path, '..'))).toEqual(['hosts'])
  })

  it('makes a second taker wait for the first', async () => {
    const path = await file()
    const first = await lockFile(path)
    const order: string[] = []
    const second = lockFile(path).then((lock) => {
      order.push('second')
      return lock
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    order.push('first released')
    await first.close()
    await (await second).close()
    expect(order).toEqual(['first released', 'second'])
  })

  it('takes over a lock whose holder is dead', async () => {
    const path = await file()
    await writeFile(lockPathOf(path), `${deadPid()} crashed\n`)
    const lock = await lockFile(path, { timeoutMs: 1_000 })
    expect((await readFile(lock.path, 'utf8')).split(' ')[0]).toBe(String(process.pid))
    await lock.close()
    expect(await readdir(join(path, '..'))).toEqual(['hosts'])
  })

  it('gives up on a live holder with KTX_FILE_LOCKED naming it', async () => {
    const path = await file()
    // pid 1 is alive (and not ours): a live holder that never lets go.
    await writeFile(lockPathOf(path), '1 someone\n')
    const error: unknown = await lockFile(path, { timeoutMs: 100 }).catch((e: unknown) => e)
    expect(isKtxError(error) && error.code).toBe('KTX_FILE_LOCKED')
    expect((error as Error).message).toContain('pid 1')
    expect(await readFile(lockPathOf(path), 'utf8')).toBe('1 someone\n')
  })
})
