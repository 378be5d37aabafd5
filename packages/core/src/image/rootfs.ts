/**
 * The shadow image's root filesystem, as tar entries (nothing is written to disk): the Node binary
 * at /usr/local/bin/node, the shared libraries and loader `ldd` names for it, /etc/passwd and
 * /etc/group with nobody (65534), /etc/nsswitch.conf and empty hosts/resolv.conf/hostname for the
 * kubelet to mount over, /tmp (1777), the agent bundle at /agent.mjs and, when given, ssh2's
 * native crypto addon beside it (with the libraries it needs). The same files the Dockerfile gets
 * from its node base image, without needing a registry.
 */
import { readFile, realpath } from 'node:fs/promises'
import { posix } from 'node:path'

import { HostError } from '../errors.js'
import { runCommand } from '../exec/run.js'
import { AGENT_BUNDLE_PATH, IMAGE_NODE_PATH, SSH_CRYPTO_ADDON_PATH } from './runtime.js'
import type { TarEntry } from './tar.js'

const PASSWD = 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n'
const GROUP = 'root:x:0:\nnogroup:x:65534:\n'

/**
 * The library paths `ldd` prints for a binary: each resolved `=> /path` and the loader's own line
 * (pure). `linux-vdso` and other lines without a path are skipped.
 */
export function parseLdd(output: string): string[] {
  const paths: string[] = []
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line)
    const bare = /^\s*(\/\S+)\s+\(/.exec(line)
    const path = arrow?.[1] ?? bare?.[1]
    if (path !== undefined && !paths.includes(path)) paths.push(path)
  }
  return paths
}

/**
 * Collects the root filesystem around `node`, `bundle` and the optional `sshCrypto` addon.
 * @throws HostError `KTX_PLATFORM_UNSUPPORTED` off Linux (the image needs a Linux Node binary; use
 *   the Dockerfile), ExternalCommandError when `ldd` fails.
 */
export async function shadowRootfs(options: {
  readonly node: string
  readonly bundle: string
  /** ssh2's `sshcrypto.node`, built for `node`'s ABI; left out when undefined. */
  readonly sshCrypto?: string
  readonly signal?: AbortSignal
}): Promise<TarEntry[]> {
  if (process.platform !== 'linux') {
    throw new HostError(
      'KTX_PLATFORM_UNSUPPORTED',
      `ktx image build needs Linux, this is ${process.platform}`,
      {
        suggestions: [
          'Build with the Dockerfile instead: docker buildx build -t <repo>/ktx-shadow:<tag> packages/shadow-image',
        ],
      },
    )
  }
  const files = new Map<string, { data: Buffer; mode: number }>()
  files.set(IMAGE_NODE_PATH, { data: await readFile(options.node), mode: 0o755 })
  files.set(AGENT_BUNDLE_PATH, { data: await readFile(options.bundle), mode: 0o644 })
  const binaries = [options.node]
  if (options.sshCrypto !== undefined) {
    files.set(SSH_CRYPTO_ADDON_PATH, { data: await readFile(options.sshCrypto), mode: 0o755 })
    binaries.push(options.sshCrypto)
  }
  const libraries = new Set<string>()
  for (const binary of binaries) {
    for (const lib of await sharedLibraries(binary, options.signal)) libraries.add(lib)
  }
  for (const lib of libraries) {
    // Copied by content under the path the loader asks for (symlinks followed, like cp -L).
    files.set(lib, { data: await readFile(await realpath(lib)), mode: 0o755 })
  }
  files.set('/etc/passwd', { data: Buffer.from(PASSWD), mode: 0o644 })
  files.set('/etc/group', { data: Buffer.from(GROUP), mode: 0o644 })
  // glibc resolves through these; the kubelet mounts its own hosts/resolv.conf over the empty ones.
  files.set('/etc/nsswitch.conf', { data: Buffer.from('hosts: files dns\n'), mode: 0o644 })
  files.set('/etc/hosts', { data: Buffer.from('127.0.0.1 localhost\n::1 localhost\n'), mode: 0o644 })
  files.set('/etc/resolv.conf', { data: Buffer.alloc(0), mode: 0o644 })
  files.set('/etc/hostname', { data: Buffer.alloc(0), mode: 0o644 })

  const dirs = new Map<string, number>([
    ['/tmp', 0o1777],
    ['/dev', 0o755],
    ['/proc', 0o755],
    ['/sys', 0o755],
  ])
  for (const path of files.keys()) {
    for (let dir = posix.dirname(path); dir !== '/'; dir = posix.dirname(dir)) {
      if (!dirs.has(dir)) dirs.set(dir, 0o755)
    }
  }
  const entries: TarEntry[] = [
    ...[...dirs].map(([path, mode]): TarEntry => ({ type: 'dir', path: path.slice(1), mode })),
    ...[...files].map(([path, file]): TarEntry => ({ type: 'file', path: path.slice(1), ...file })),
  ]
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

// A static binary makes ldd exit non-zero with "not a dynamic executable": no libraries then.
async function sharedLibraries(node: string, signal: AbortSignal | undefined): Promise<string[]> {
  const result = await runCommand('ldd', [node], { check: false, ...(signal ? { signal } : {}) })
  if (result.exitCode !== 0 && (result.stdout + result.stderr).includes('not a dynamic executable')) return []
  if (result.exitCode !== 0) {
    throw new HostError('KTX_COMMAND_FAILED', `ldd ${node} failed: ${result.stderr.trim()}`, {
      suggestions: ['Pass a Linux Node.js binary with --node.'],
    })
  }
  const missing = result.stdout.split('\n').filter((line) => /=>\s+not found/.test(line))
  if (missing.length > 0) {
    throw new HostError(
      'KTX_COMMAND_FAILED',
      `${node} needs libraries this machine lacks: ${missing.map((l) => l.trim()).join(', ')}`,
      {
        suggestions: ['Pass a Node.js binary whose libraries are installed with --node.'],
      },
    )
  }
  return parseLdd(result.stdout)
}
