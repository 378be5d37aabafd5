/**
 * The shadow image, built offline (`ktx image build`, no Docker) and as the Dockerfile states it,
 * must run the same way: the built archive is unpacked, its index → manifest → config followed by
 * digest, and the config's entrypoint, cmd, user, workdir, env and ports compared with what the
 * parsed Dockerfile gives. A real client (`ctr`, when containerd is reachable) must accept the
 * archive. `ktx image push` is driven with an empty PATH (it must name every missing client) and
 * with a recording skopeo (it must hand over the archive and the target).
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { accessSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { generateSessionKey } from '@ktx/core/tunnel'

import { parseDockerfile } from '../harness/dockerfile.js'
import { KTX_BIN } from '../harness/ktx.js'

const run = promisify(execFile)
const pkg = fileURLToPath(new URL('../../packages/shadow-image/', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'ktx-image-test-'))
const archive = join(work, 'ktx-shadow.tar')
const unpacked = join(work, 'unpacked')

interface ImageConfig {
  architecture: string
  os: string
  config: {
    Entrypoint?: string[]
    Cmd?: string[]
    User?: string
    WorkingDir?: string
    Env?: string[]
    ExposedPorts?: Record<string, object>
  }
}

function blob(digest: string): Buffer {
  const data = readFileSync(join(unpacked, 'blobs', 'sha256', digest.replace(/^sha256:/, '')))
  expect(`sha256:${createHash('sha256').update(data).digest('hex')}`).toBe(digest)
  return data
}

let config: ImageConfig
let layerDigest: string

beforeAll(async () => {
  await run(
    process.execPath,
    [KTX_BIN, 'image', 'build', '--output', archive, '--tag', 'localhost/ktx-shadow:itest'],
    {
      timeout: 60_000,
    },
  )
  await run('mkdir', ['-p', unpacked])
  await run('tar', ['-xf', archive, '-C', unpacked])
  const index = JSON.parse(readFileSync(join(unpacked, 'index.json'), 'utf8')) as {
    manifests: { digest: string; platform: { os: string } }[]
  }
  expect(index.manifests).toHaveLength(1)
  const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as {
    config: { digest: string }
    layers: { digest: string }[]
  }
  config = JSON.parse(blob(manifest.config.digest).toString()) as ImageConfig
  layerDigest = manifest.layers[0]!.digest
}, 90_000)

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('ktx image build', () => {
  it('runs like the Dockerfile: same entrypoint, cmd, user, workdir, env and ports', () => {
    const docker = parseDockerfile(readFileSync(join(pkg, 'Dockerfile'), 'utf8'))
    const offline = config.config
    expect(offline.Entrypoint).toEqual(docker.entrypoint)
    expect(offline.Cmd ?? []).toEqual(docker.cmd ?? [])
    expect(offline.User).toBe(docker.user)
    expect(offline.WorkingDir).toBe(docker.workdir)
    // PATH comes from each base (node:24-alpine's own); every variable the Dockerfile sets matches.
    const offlineEnv = Object.fromEntries(
      (offline.Env ?? [])
        .filter((e) => !e.startsWith('PATH='))
        .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    )
    expect(offlineEnv).toEqual(docker.env)
    expect(Object.keys(offline.ExposedPorts ?? {})).toEqual(docker.exposedPorts)
    // The Dockerfile puts the bundle where the entrypoint runs it, from what npm run build writes.
    expect(docker.copies).toEqual([['dist/agent.mjs', docker.entrypoint?.[1]]])
    expect(docker.from).toMatch(/^node:24/)
    expect(config.os).toBe('linux')
  })

  it('holds the bundle, the Node binary and its loader; the same inputs give the same layer', async () => {
    const listing = (
      await run('tar', ['-tf', join(unpacked, 'blobs', 'sha256', layerDigest.slice(7))], {
        maxBuffer: 1 << 20,
      })
    ).stdout.split('\n')
    expect(listing).toEqual(expect.arrayContaining(['agent.mjs', 'usr/local/bin/node', 'etc/passwd', 'tmp/']))
    // ssh2's install builds its native crypto here (CI too); the agent's ssh2 finds it beside the bundle.
    expect(listing).toContain('crypto/build/Release/sshcrypto.node')
    const again = join(work, 'again.tar')
    await run(
      process.execPath,
      [KTX_BIN, 'image', 'build', '--output', again, '--tag', 'localhost/ktx-shadow:itest'],
      {
        timeout: 60_000,
      },
    )
    expect(createHash('sha256').update(readFileSync(again)).digest('hex')).toBe(
      createHash('sha256').update(readFileSync(archive)).digest('hex'),
    )
  }, 60_000)

  it('runs as nobody in its own root filesystem and its ssh2 loads the native crypto', async (context) => {
    if (process.getuid?.() !== 0) context.skip()
    const root = join(work, 'rootfs')
    await run('mkdir', ['-p', root])
    await run('tar', ['-xf', join(unpacked, 'blobs', 'sha256', layerDigest.slice(7)), '-C', root])
    const { publicKey } = generateSessionKey()
    // The agent runs until stopped; its first line says it is ready and which crypto ssh2 took.
    const agent = spawn('chroot', ['--userspec=65534:65534', root, ...(config.config.Entrypoint ?? [])], {
      env: {
        PATH: process.env.PATH,
        KTX_AUTHORIZED_KEY: publicKey,
        KTX_SSH_PORT: '0',
        KTX_DIRECT_PORT: '0',
        KTX_HEALTH_PORT: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    try {
      const [line] = (await once(createInterface({ input: agent.stderr }), 'line')) as [string]
      expect(JSON.parse(line)).toMatchObject({ message: 'Agent ready', sshCrypto: 'native' })
    } finally {
      agent.kill()
    }
  }, 30_000)

  it('is accepted by containerd (ctr images import) when containerd is reachable', async (context) => {
    const sock = '/run/containerd/containerd.sock'
    try {
      accessSync(sock)
    } catch {
      context.skip()
    }
    const ns = `ktx-image-test-${process.pid}`
    try {
      await run('ctr', ['-a', sock, '-n', ns, 'images', 'import', '--all-platforms', archive], {
        timeout: 60_000,
      })
      const listed = (await run('ctr', ['-a', sock, '-n', ns, 'images', 'ls', '-q'])).stdout
      expect(listed.split('\n')).toContain('localhost/ktx-shadow:itest')
    } finally {
      await run('ctr', ['-a', sock, '-n', ns, 'images', 'rm', 'localhost/ktx-shadow:itest']).catch(
        () => undefined,
      )
      await run('ctr', ['-a', sock, 'namespaces', 'rm', ns]).catch(() => undefined)
    }
  }, 60_000)
})

describe('ktx image push', () => {
  it('without any registry client says which ones it looked for and how to push by hand', async () => {
    const empty = mkdtempSync(join(work, 'path-'))
    const result = await run(process.execPath, [KTX_BIN, 'image', 'push', '--registry', 'reg.example/me'], {
      env: { ...process.env, PATH: empty },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => error as { code: number; stderr: string },
    )
    expect(result.code).toBe(8)
    expect(result.stderr).toContain('KTX_IMAGE_PUSH_TOOL_MISSING')
    for (const tool of ['skopeo: not on PATH', 'crane: not on PATH', 'podman', 'docker', 'ctr']) {
      expect(result.stderr).toContain(tool)
    }
    expect(result.stderr).toContain(
      'skopeo copy oci-archive:ktx-shadow.tar docker://reg.example/me/ktx-shadow:0.1.0',
    )
  }, 60_000)

  it('hands the archive and the reference to the client it found', async () => {
    const bin = mkdtempSync(join(work, 'bin-'))
    const record = join(work, 'skopeo-args')
    // Stands in for skopeo: records its arguments and checks the archive it was given exists.
    writeFileSync(
      join(bin, 'skopeo'),
      `#!/bin/sh\necho "$@" > ${record}\nf=\${2#oci-archive:}\ntest -s "$f"\n`,
    )
    chmodSync(join(bin, 'skopeo'), 0o755)
    const { stdout } = await run(
      process.execPath,
      [KTX_BIN, 'image', 'push', '--tag', 'reg.example/me/ktx-shadow:dev'],
      { env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` }, timeout: 60_000 },
    )
    const args = readFileSync(record, 'utf8').trim().split(' ')
    expect(args[0]).toBe('copy')
    expect(args[1]).toMatch(/^oci-archive:\/.*image\.tar$/)
    expect(args[2]).toBe('docker://reg.example/me/ktx-shadow:dev')
    expect(stdout).toContain('Pushed reg.example/me/ktx-shadow:dev')
    expect(stdout).toContain('ktx config set image reg.example/me/ktx-shadow:dev')
  }, 60_000)
})
