/**
 * An OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md) of a
 * single-layer image: `oci-layout`, `index.json` and `blobs/sha256/…`, written as a directory or as
 * one tar file (what `ctr images import`, `skopeo copy oci-archive:` and `docker load` read).
 * Deterministic: fixed timestamps, canonical JSON.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

import type { ImageRuntime } from './runtime.js'
import { type TarEntry, tarChunks } from './tar.js'

const EPOCH = '1970-01-01T00:00:00Z'
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json'

/** A content-addressed blob. */
export interface Blob {
  readonly digest: string
  readonly size: number
  readonly chunks: readonly Buffer[]
}

/** The files of an image layout, ready to write. */
export interface ImageLayout {
  /** The image name recorded in the index (`io.containerd.image.name`). */
  readonly name: string
  readonly manifestDigest: string
  readonly config: OciImageConfig
  /** Path in the layout → contents (blobs share the chunk buffers, nothing is copied). */
  readonly files: ReadonlyMap<string, readonly Buffer[]>
}

/** The parts of an OCI image config ktx writes. */
export interface OciImageConfig {
  readonly architecture: string
  readonly os: 'linux'
  readonly created: string
  readonly config: {
    readonly Entrypoint: readonly string[]
    readonly Cmd?: readonly string[]
    readonly User: string
    readonly WorkingDir: string
    readonly Env: readonly string[]
    readonly ExposedPorts: Readonly<Record<string, Record<string, never>>>
  }
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] }
  readonly history: readonly { readonly created: string; readonly created_by: string }[]
}

/** Node's `process.arch` as an OCI architecture. */
export function ociArchitecture(arch: string): string {
  const known: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  }
  return known[arch] ?? arch
}

/** Assembles the layout of an image whose one (uncompressed) layer holds `entries` (pure). */
export function imageLayout(options: {
  readonly name: string
  readonly entries: readonly TarEntry[]
  readonly runtime: ImageRuntime
  readonly architecture: string
}): ImageLayout {
  const layer = blobOf(tarChunks(options.entries))
  const { runtime } = options
  const config: OciImageConfig = {
    architecture: options.architecture,
    os: 'linux',
    created: EPOCH,
    config: {
      Entrypoint: runtime.entrypoint,
      ...(runtime.cmd.length > 0 ? { Cmd: runtime.cmd } : {}),
      User: runtime.user,
      WorkingDir: runtime.workingDir,
      Env: [DEFAULT_PATH, ...runtime.env],
      ExposedPorts: Object.fromEntries(runtime.exposedPorts.map((p) => [p, {}])),
    },
    // An uncompressed layer's diff ID is its own digest.
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created: EPOCH, created_by: 'ktx image build' }],
  }
  const configBlob = blobOf([canonical(config)])
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...ref(configBlob) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...ref(layer) }],
  }
  const manifestBlob = blobOf([canonical(manifest)])
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: MANIFEST_TYPE,
        ...ref(manifestBlob),
        platform: { architecture: options.architecture, os: 'linux' },
        // ctr takes the full name from this annotation; ref.name alone would lose the repository.
        annotations: {
          'io.containerd.image.name': options.name,
          'org.opencontainers.image.ref.name': tagOf(options.name),
        },
      },
    ],
  }
  const files = new Map<string, readonly Buffer[]>()
  for (const blob of [layer, configBlob, manifestBlob]) {
    files.set(`blobs/sha256/${blob.digest.slice('sha256:'.length)}`, blob.chunks)
  }
  files.set('oci-layout', [canonical({ imageLayoutVersion: '1.0.0' })])
  files.set('index.json', [canonical(index)])
  return { name: options.name, manifestDigest: manifestBlob.digest, config, files }
}

/** Writes the layout as a directory. */
export async function writeLayoutDir(layout: ImageLayout, dir: string): Promise<void> {
  for (const [path, chunks] of layout.files) {
    const target = join(dir, path)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, chunks)
  }
}

/** Writes the layout as one tar file (an "OCI archive"). */
export async function writeLayoutTar(layout: ImageLayout, file: string): Promise<void> {
  const dirs = new Set<string>(['blobs', 'blobs/sha256'])
  const entries: TarEntry[] = [...dirs].map((path) => ({ type: 'dir', path, mode: 0o755 }))
  for (const [path, chunks] of layout.files) {
    entries.push({ type: 'file', path, mode: 0o644, data: Buffer.concat(chunks) })
  }
  await mkdir(dirname(file), { recursive: true })
  const handle = await open(file, 'w')
  try {
    for (const chunk of tarChunks(entries)) await handle.write(chunk)
  } finally {
    await handle.close()
  }
}

/** The tag of an image reference (`latest` when it has none). */
export function tagOf(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1)
  const colon = last.indexOf(':')
  return colon >= 0 ? last.slice(colon + 1) : 'latest'
}

function blobOf(chunks: readonly Buffer[]): Blob {
  const hash = createHash('sha256')
  let size = 0
  for (const chunk of chunks) {
    hash.update(chunk)
    size += chunk.length
  }
  return { digest: `sha256:${hash.digest('hex')}`, size, chunks }
}

function ref(blob: Blob): { digest: string; size: number } {
  return { digest: blob.digest, size: blob.size }
}

// Sorted keys, no spaces: the same object always hashes the same.
function canonical(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(sortKeys(value)))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    )
  }
  return value
}
