/**
 * bin/run.js turns on Node's compile cache under the user's cache directory: a run fills it, and a
 * directory that cannot be made changes nothing about the command (same output, nothing on stderr,
 * exit 0).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { describe, expect, it } from 'vitest'

import { KTX_BIN } from '../harness/ktx.js'

const run = promisify(execFile)
const work = mkdtempSync(join(tmpdir(), 'ktx-compile-cache-'))

function ktx(args: readonly string[], cacheHome: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: join(work, 'home'), XDG_CACHE_HOME: cacheHome }
  delete env.NODE_COMPILE_CACHE
  delete env.NODE_DISABLE_COMPILE_CACHE
  return run(process.execPath, [KTX_BIN, ...args], { env })
}

/** Every file under `dir`, recursively (none when it does not exist). */
function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
  } catch {
    return []
  }
}

describe('compile cache', () => {
  it('a run stores compiled modules under $XDG_CACHE_HOME/ktx', async () => {
    const cacheHome = join(work, 'cache')
    await ktx(['status'], cacheHome)
    expect(filesUnder(join(cacheHome, 'ktx', 'compile-cache')).length).toBeGreaterThan(10)
  })

  it('an unusable cache directory does not change the command', async () => {
    // Under a regular file no directory can be made, even by root.
    const blocker = join(work, 'not-a-directory')
    writeFileSync(blocker, '')
    const usable = await ktx(['status'], join(work, 'cache-2'))
    const unusable = await ktx(['status'], blocker)
    expect(unusable.stdout).toBe(usable.stdout)
    expect(unusable.stderr).toBe('')
    expect(usable.stdout).toContain('No ktx session')
  })
})
