import { chmod, chown, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { trustProblem, trustedOwners, whichCommand } from './trust.js'

const asRoot = process.getuid?.() === 0

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ktx-trust-'))
}

describe('trustProblem', () => {
  it('trusts a file of this user in a private directory under sticky /tmp', async () => {
    const d = await dir()
    await writeFile(join(d, 'f'), 'x', { mode: 0o600 })
    expect(await trustProblem(join(d, 'f'))).toBeUndefined()
  })

  it('refuses a file writable by its group or by others', async () => {
    const d = await dir()
    const f = join(d, 'f')
    await writeFile(f, 'x')
    await chmod(f, 0o664)
    expect(await trustProblem(f)).toBe(`${f} is writable by its group (mode 0664)`)
    await chmod(f, 0o646)
    expect(await trustProblem(f)).toBe(`${f} is writable by others (mode 0646)`)
  })

  it('refuses a file under a directory writable by others without the sticky bit', async () => {
    const d = await dir()
    await mkdir(join(d, 'open'))
    await chmod(join(d, 'open'), 0o777)
    await writeFile(join(d, 'open', 'f'), 'x', { mode: 0o600 })
    expect(await trustProblem(join(d, 'open', 'f'))).toBe(
      `${join(d, 'open')} is writable by others (mode 0777)`,
    )
    await chmod(join(d, 'open'), 0o1777)
    expect(await trustProblem(join(d, 'open', 'f'))).toBeUndefined()
  })

  it.skipIf(!asRoot)('as root, refuses a file or a directory above it owned by another user', async () => {
    expect(trustedOwners()).toEqual([0])
    const d = await dir()
    await mkdir(join(d, 'home'))
    await writeFile(join(d, 'home', 'f'), 'x', { mode: 0o600 })
    await chown(join(d, 'home', 'f'), 1000, 1000)
    expect(await trustProblem(join(d, 'home', 'f'))).toBe(
      `${join(d, 'home', 'f')} is owned by uid 1000, not by root`,
    )
    await chown(join(d, 'home', 'f'), 0, 0)
    await chown(join(d, 'home'), 1000, 1000)
    expect(await trustProblem(join(d, 'home', 'f'))).toBe(
      `${join(d, 'home')} is owned by uid 1000, not by root`,
    )
  })

  it.skipIf(!asRoot)('judges the file a symlink points to, and says so', async () => {
    const d = await dir()
    await writeFile(join(d, 'real'), 'x', { mode: 0o600 })
    await chown(join(d, 'real'), 1000, 1000)
    await symlink(join(d, 'real'), join(d, 'link'))
    expect(await trustProblem(join(d, 'link'))).toBe(
      `${join(d, 'real')} (${join(d, 'link')}) is owned by uid 1000, not by root`,
    )
  })

  it('fails with ENOENT for a missing file', async () => {
    await expect(trustProblem(join(await dir(), 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('whichCommand', () => {
  it('finds the first executable on PATH', async () => {
    const d = await dir()
    await writeFile(join(d, 'ktx-probe-cmd'), '#!/bin/sh\n', { mode: 0o755 })
    const saved = process.env.PATH
    process.env.PATH = `/nonexistent:${d}:/usr/bin:/bin`
    try {
      expect(await whichCommand('ktx-probe-cmd')).toBe(join(d, 'ktx-probe-cmd'))
      expect(await whichCommand('ktx-no-such-cmd')).toBeUndefined()
      expect(await whichCommand('cd')).toBeUndefined()
    } finally {
      process.env.PATH = saved
    }
  })
})
