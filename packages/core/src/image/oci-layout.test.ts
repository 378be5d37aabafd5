import { createHash } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { imageLayout, ociArchitecture, tagOf } from './oci-layout.js'
import { shadowImageRuntime } from './runtime.js'

const sha = (chunks: readonly Buffer[]): string =>
  `sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`

describe('imageLayout', () => {
  const layout = imageLayout({
    name: 'localhost/ktx-shadow:dev',
    entries: [{ type: 'file', path: 'agent.mjs', mode: 0o644, data: Buffer.from('x') }],
    runtime: shadowImageRuntime(),
    architecture: 'amd64',
  })
  const json = (path: string): Record<string, unknown> =>
    JSON.parse(Buffer.concat(layout.files.get(path) ?? []).toString()) as Record<string, unknown>

  it('links index → manifest → config and layer by their real digests', () => {
    const index = json('index.json') as {
      manifests: { digest: string; annotations: Record<string, string> }[]
    }
    const entry = index.manifests[0]!
    expect(entry.annotations['io.containerd.image.name']).toBe('localhost/ktx-shadow:dev')
    expect(entry.annotations['org.opencontainers.image.ref.name']).toBe('dev')
    const manifestPath = `blobs/sha256/${entry.digest.slice(7)}`
    expect(sha(layout.files.get(manifestPath)!)).toBe(entry.digest)
    const manifest = json(manifestPath) as { config: { digest: string }; layers: { digest: string }[] }
    for (const digest of [manifest.config.digest, manifest.layers[0]!.digest]) {
      expect(sha(layout.files.get(`blobs/sha256/${digest.slice(7)}`)!)).toBe(digest)
    }
    expect(layout.config.rootfs.diff_ids).toEqual([manifest.layers[0]!.digest])
    expect(json('oci-layout')).toEqual({ imageLayoutVersion: '1.0.0' })
  })

  it('writes the runtime into the config, PATH first', () => {
    expect(layout.config.config).toEqual({
      Entrypoint: ['/usr/local/bin/node', '/agent.mjs'],
      User: '65534:65534',
      WorkingDir: '/',
      Env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'KTX_SSH_PORT=2222',
        'KTX_HEALTH_PORT=8081',
      ],
      ExposedPorts: { '8081/tcp': {} },
    })
  })
})

describe('names', () => {
  it('maps Node architectures and reads tags', () => {
    expect(ociArchitecture('x64')).toBe('amd64')
    expect(ociArchitecture('arm64')).toBe('arm64')
    expect(tagOf('localhost:5000/ktx-shadow')).toBe('latest')
    expect(tagOf('localhost:5000/ktx-shadow:1.2')).toBe('1.2')
  })
})
