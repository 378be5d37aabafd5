/**
 * The commands that need no cluster must not load the Kubernetes client: importing
 * `@kubernetes/client-node` alone costs a bare Node ~0.4 s and ~75 MB. This holds the CLI to it by
 * running the built `ktx` with a module-recording preload: an eager import of `@ktx/core` (or of
 * the client) in the shared CLI code or in these commands makes it fail. The CLI runs bundled
 * (packages/cli/scripts/bundle.mjs): the client is then inside chunks, which the bundle's metafile
 * names.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

import { describe, expect, it } from 'vitest'

import { KTX_BIN } from '../harness/ktx.js'

const run = promisify(execFile)
const RECORDER = fileURLToPath(new URL('./fixtures/record-modules.mjs', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'ktx-lazy-load-'))
const CLIENT = 'node_modules/@kubernetes/client-node/'
const BUNDLE_ROOT = new URL('../../packages/cli/', import.meta.url)

interface Metafile {
  readonly outputs: Record<string, { readonly inputs: Record<string, unknown> }>
}

/** URLs of the bundle's chunks that hold any of the client's code. */
function clientChunks(): string[] {
  const meta = JSON.parse(readFileSync(new URL('bundle/meta.json', BUNDLE_ROOT), 'utf8')) as Metafile
  return Object.entries(meta.outputs)
    .filter(([, output]) => Object.keys(output.inputs).some((input) => input.includes(CLIENT)))
    .map(([file]) => pathToFileURL(fileURLToPath(new URL(file, BUNDLE_ROOT))).href)
}

/** The loaded modules that are (or hold) the Kubernetes client. */
function clientModules(modules: readonly string[], chunks: readonly string[]): string[] {
  return modules.filter((url) => url.includes(`/${CLIENT}`) || chunks.includes(url))
}

/** Runs `node --import recorder <args>` with a fresh HOME; the module URLs it loaded. */
async function loadedBy(args: readonly string[], label: string): Promise<string[]> {
  const out = join(work, `${label}.txt`)
  const env = { ...process.env, HOME: join(work, 'home'), KTX_RECORD_MODULES: out }
  await run(process.execPath, ['--import', RECORDER, ...args], { env })
  return readFileSync(out, 'utf8').split('\n')
}

describe('commands without a cluster', () => {
  it('the recorder sees the client when @ktx/core loads it', async () => {
    const modules = await loadedBy(['--input-type=module', '-e', "await import('@ktx/core')"], 'core')
    expect(clientModules(modules, [])).not.toEqual([])
  })

  it('the bundle has the client in chunks of its own', () => {
    expect(clientChunks()).not.toEqual([])
  })

  it.each([
    '--help',
    'connect --help',
    'status',
    'status --json',
    'config list',
    'config get namespace',
    'completion bash',
  ])('ktx %s loads no Kubernetes client', async (line) => {
    const modules = await loadedBy([KTX_BIN, ...line.split(' ')], line.replaceAll(' ', '-'))
    expect(modules.length).toBeGreaterThan(0)
    expect(clientModules(modules, clientChunks())).toEqual([])
  })
})
