/**
 * The registry clients `ktx image push` can drive, how each pushes an OCI archive, and which one
 * this machine has. ktx speaks no registry protocol itself: credentials and TLS stay with the
 * tool the user already logged in with (`skopeo login`, `docker login`, …).
 */
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

import { runCommand } from '../exec/run.js'

/** The clients, in the order ktx prefers them (no daemon first). */
export const PUSH_TOOLS = ['skopeo', 'crane', 'podman', 'docker', 'ctr'] as const
export type PushTool = (typeof PUSH_TOOLS)[number]

/** What a push needs: the archive (OCI tar), the same image as a layout directory, the target. */
export interface PushInput {
  readonly archive: string
  readonly layoutDir: string
  /** Full reference, e.g. `ghcr.io/me/ktx-shadow:0.1.0`; also the name inside the archive. */
  readonly ref: string
  /** Plain HTTP or a self-signed registry. */
  readonly insecure: boolean
}

/** The containerd namespace `ctr` pushes from (not `k8s.io`: a push must not touch the kubelet's images). */
const CTR_NAMESPACE = 'ktx-push'

/** The commands that push `input` with `tool`, in order (pure). */
export function pushCommands(tool: PushTool, input: PushInput): { command: string; args: string[] }[] {
  const { archive, layoutDir, ref, insecure } = input
  switch (tool) {
    case 'skopeo':
      return [
        {
          command: 'skopeo',
          args: [
            'copy',
            ...(insecure ? ['--dest-tls-verify=false'] : []),
            `oci-archive:${archive}`,
            `docker://${ref}`,
          ],
        },
      ]
    case 'crane':
      // crane reads a directory as an OCI layout (a tar file would be taken for `docker save` output).
      return [{ command: 'crane', args: ['push', ...(insecure ? ['--insecure'] : []), layoutDir, ref] }]
    case 'podman':
      return [
        { command: 'podman', args: ['load', '-i', archive] },
        { command: 'podman', args: ['push', ...(insecure ? ['--tls-verify=false'] : []), ref] },
      ]
    case 'docker':
      // docker load reads OCI archives since Engine 25; insecure registries are daemon configuration.
      return [
        { command: 'docker', args: ['load', '-i', archive] },
        { command: 'docker', args: ['push', ref] },
      ]
    case 'ctr':
      return [
        { command: 'ctr', args: ['-n', CTR_NAMESPACE, 'images', 'import', '--all-platforms', archive] },
        {
          command: 'ctr',
          args: ['-n', CTR_NAMESPACE, 'images', 'push', ...(insecure ? ['--plain-http'] : []), ref],
        },
        { command: 'ctr', args: ['-n', CTR_NAMESPACE, 'images', 'rm', ref] },
      ]
  }
}

/** What was found of one client: usable, or why not. */
export interface ToolProbe {
  readonly tool: PushTool
  readonly usable: boolean
  /** Why it cannot be used (not on PATH, its daemon does not answer). */
  readonly reason?: string
}

/** Where {@link probePushTools} looks. */
export interface ProbeOptions {
  /** The executable search path (the caller's PATH). */
  readonly path: string
  /** containerd's socket, for ctr. Default /run/containerd/containerd.sock. */
  readonly containerdSocket?: string
  readonly signal?: AbortSignal
}

/**
 * Looks for every client on PATH and checks the ones that need a daemon (docker, podman's
 * machine is its own business; ctr needs containerd's socket).
 */
export async function probePushTools(options: ProbeOptions): Promise<ToolProbe[]> {
  const dirs = options.path.split(delimiter).filter((d) => d !== '')
  const probes: ToolProbe[] = []
  for (const tool of PUSH_TOOLS) {
    const found = await findExecutable(tool, dirs)
    if (found === undefined) {
      probes.push({ tool, usable: false, reason: 'not on PATH' })
      continue
    }
    probes.push(await checkDaemon(tool, found, options))
  }
  return probes
}

async function checkDaemon(tool: PushTool, path: string, options: ProbeOptions): Promise<ToolProbe> {
  const { signal } = options
  if (tool === 'docker') {
    const info = await runCommand(path, ['info', '--format', '{{.ServerVersion}}'], {
      check: false,
      timeoutMs: 10_000,
      ...(signal ? { signal } : {}),
    }).catch(() => undefined)
    if (info?.exitCode !== 0)
      return { tool, usable: false, reason: 'found, but the Docker daemon does not answer' }
  }
  if (tool === 'ctr') {
    const socket = options.containerdSocket ?? '/run/containerd/containerd.sock'
    try {
      await access(socket, constants.R_OK | constants.W_OK)
    } catch {
      return {
        tool,
        usable: false,
        reason: `found, but containerd's socket ${socket} is not reachable (root?)`,
      }
    }
  }
  return { tool, usable: true }
}

async function findExecutable(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}
