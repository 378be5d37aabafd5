/**
 * `buildShadowImage()` / `pushShadowImage()`: the shadow agent's image without Docker. The build
 * puts this machine's Node binary (or `node`), its libraries and the agent bundle into a
 * one-layer OCI image (runtime from `image/runtime.ts`, the same as the Dockerfile's), checks that
 * the bundle starts, and writes an OCI layout directory or archive. The push hands that archive to
 * a registry client found on this machine.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { HostError, UsageError } from '../errors.js'
import { formatCommand, runCommand } from '../exec/run.js'
import {
  type ImageLayout,
  imageLayout,
  ociArchitecture,
  tagOf,
  writeLayoutDir,
  writeLayoutTar,
} from '../image/oci-layout.js'
import {
  PUSH_TOOLS,
  type PushTool,
  type ToolProbe,
  probePushTools,
  pushCommands,
} from '../image/push-tools.js'
import { shadowRootfs } from '../image/rootfs.js'
import { shadowImageRuntime } from '../image/runtime.js'
import { type SshCryptoChoice, chooseSshCrypto, installedSshCryptoAddon } from '../image/ssh-crypto.js'
import { AGENT_ENV } from '../contract.js'
import { DEFAULT_SHADOW_IMAGE } from '../options.js'

/** Options of {@link buildShadowImage}. */
export interface BuildImageOptions {
  /** The agent bundle (`@ktx/shadow-image`'s `dist/agent.mjs`). */
  readonly bundle: string
  /** Where to write: a directory (OCI layout) or, ending in `.tar`, an OCI archive. */
  readonly output: string
  /** Image name recorded in the layout. Default {@link DEFAULT_SHADOW_IMAGE}. */
  readonly name?: string
  /** The Linux Node.js binary to put in the image. Default: the one running this process. */
  readonly node?: string
  /**
   * ssh2's native crypto addon for the agent: a path (must load under `node`), or `false` to leave
   * it out. Default: the one ssh2's install built here, when it loads under `node`.
   */
  readonly sshCrypto?: string | false
  readonly signal?: AbortSignal
}

/** What {@link buildShadowImage} wrote. */
export interface BuiltImage {
  readonly name: string
  readonly output: string
  readonly format: 'oci-layout' | 'oci-archive'
  /** The manifest's digest (the same inputs always give the same digest). */
  readonly digest: string
  readonly architecture: string
  /** Bytes of the one layer. */
  readonly layerSize: number
  /** Whether the agent gets ssh2's native crypto, and if not, why. */
  readonly sshCrypto: SshCryptoChoice
}

/**
 * Builds the image and writes it to `output`.
 * @throws UsageError (bad name), HostError `KTX_IMAGE_BUNDLE_INVALID` (the bundle is missing or
 *   does not start under the Node binary), `KTX_PLATFORM_UNSUPPORTED` off Linux.
 */
export async function buildShadowImage(options: BuildImageOptions): Promise<BuiltImage> {
  const image = await assemble(options)
  return writeImage(image, options.output)
}

/** The image in memory: bundle checked, root filesystem collected, layout assembled. */
interface AssembledImage {
  readonly layout: ImageLayout
  readonly sshCrypto: SshCryptoChoice
}

async function assemble(options: Omit<BuildImageOptions, 'output'>): Promise<AssembledImage> {
  const name = options.name ?? DEFAULT_SHADOW_IMAGE
  if (name.trim() === '' || /\s/.test(name)) throw new UsageError(`Invalid image name "${name}"`)
  const node = options.node ?? process.execPath
  const { signal } = options
  await checkBundle(node, options.bundle, signal)
  const sshCrypto = await chooseSshCrypto({
    node,
    installed: installedSshCryptoAddon(),
    ...(options.sshCrypto === undefined ? {} : { wanted: options.sshCrypto }),
    ...(signal ? { signal } : {}),
  })
  const entries = await shadowRootfs({
    node,
    bundle: options.bundle,
    ...(sshCrypto.kind === 'native' ? { sshCrypto: sshCrypto.addon } : {}),
    ...(signal ? { signal } : {}),
  })
  const layout = imageLayout({
    name,
    entries,
    runtime: shadowImageRuntime(),
    architecture: ociArchitecture(process.arch),
  })
  return { layout, sshCrypto }
}

async function writeImage({ layout, sshCrypto }: AssembledImage, output: string): Promise<BuiltImage> {
  const format = output.endsWith('.tar') ? 'oci-archive' : 'oci-layout'
  if (format === 'oci-archive') await writeLayoutTar(layout, output)
  else await writeLayoutDir(layout, output)
  return {
    name: layout.name,
    output,
    format,
    digest: layout.manifestDigest,
    architecture: layout.config.architecture,
    layerSize: layerSize(layout),
    sshCrypto,
  }
}

/** Options of {@link pushShadowImage}. */
export interface PushImageOptions extends Omit<BuildImageOptions, 'output' | 'name'> {
  /** Full target reference; or give {@link registry}. */
  readonly ref?: string
  /** `registry/path`: the image goes to `<registry>/ktx-shadow:<ktx's version>`. */
  readonly registry?: string
  /** Use this client; default the first usable of {@link PUSH_TOOLS}. */
  readonly tool?: PushTool
  readonly insecure?: boolean
  /** Where to look for the clients: the caller's PATH (core does not read the environment). */
  readonly path: string
  /** containerd's socket, for ctr. Default /run/containerd/containerd.sock. */
  readonly containerdSocket?: string
}

/** What {@link pushShadowImage} did. */
export interface PushedImage extends BuiltImage {
  readonly ref: string
  readonly tool: PushTool
}

/** The reference `--registry` stands for: `<registry>/ktx-shadow:<tag of the default image>` (pure). */
export function imageRefFor(registry: string): string {
  return `${registry.replace(/\/+$/, '')}/ktx-shadow:${tagOf(DEFAULT_SHADOW_IMAGE)}`
}

/**
 * Builds the image named `ref` into a temporary directory and pushes it with a registry client.
 * @throws HostError `KTX_IMAGE_PUSH_TOOL_MISSING` naming every client and why none is usable,
 *   ExternalCommandError when the client fails (its own message, e.g. "unauthorized", included).
 */
export async function pushShadowImage(options: PushImageOptions): Promise<PushedImage> {
  const ref = options.ref ?? (options.registry !== undefined ? imageRefFor(options.registry) : undefined)
  if (ref === undefined) {
    throw new UsageError('Say where to push: a registry (ghcr.io/me) or a full image reference', {
      suggestions: [
        'ktx image push --registry ghcr.io/<you>',
        'ktx image push --tag registry.example.com/ktx-shadow:dev',
      ],
    })
  }
  const probes = await probePushTools({
    path: options.path,
    ...(options.containerdSocket === undefined ? {} : { containerdSocket: options.containerdSocket }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const tool = pickTool(probes, options.tool, ref)
  const work = await mkdtemp(join(tmpdir(), 'ktx-image-'))
  try {
    const image = await assemble({ ...options, name: ref })
    const archive = join(work, 'image.tar')
    const layoutDir = join(work, 'layout')
    const built = await writeImage(image, archive)
    await writeLayoutDir(image.layout, layoutDir)
    for (const { command, args } of pushCommands(tool, {
      archive,
      layoutDir,
      ref,
      insecure: options.insecure ?? false,
    })) {
      await runCommand(command, args, {
        timeoutMs: 600_000,
        ...(options.signal ? { signal: options.signal } : {}),
      })
    }
    return { ...built, ref, tool }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

function pickTool(probes: readonly ToolProbe[], wanted: PushTool | undefined, ref: string): PushTool {
  const usable = probes.filter((p) => p.usable && (wanted === undefined || p.tool === wanted))
  const chosen = usable[0]
  if (chosen !== undefined) return chosen.tool
  const findings = probes
    .filter((p) => wanted === undefined || p.tool === wanted)
    .map((p) => `${p.tool}: ${p.usable ? 'usable' : (p.reason ?? 'unusable')}`)
  const archive = 'ktx-shadow.tar'
  throw new HostError(
    'KTX_IMAGE_PUSH_TOOL_MISSING',
    `No registry client to push ${ref} with (${findings.join('; ')})`,
    {
      suggestions: [
        `Install one of ${PUSH_TOOLS.join(', ')}, log in to the registry with it, and run this again.`,
        `Or build the archive and push it yourself: ktx image build --output ${archive} --tag ${ref}, then`,
        `  ${formatCommand('skopeo', ['copy', `oci-archive:${archive}`, `docker://${ref}`])}`,
        `  or: docker load -i ${archive} && docker push ${ref}`,
        `  or: docker buildx build --platform linux/amd64,linux/arm64 -t ${ref} --push packages/shadow-image`,
      ],
      data: { probes },
    },
  )
}

// The bundle must exist and start: without a key the agent exits 1 naming the variable it needs.
async function checkBundle(node: string, bundle: string, signal: AbortSignal | undefined): Promise<void> {
  const suggestion =
    'Build the agent bundle first: npm run build (it writes packages/shadow-image/dist/agent.mjs).'
  try {
    await stat(bundle)
  } catch {
    throw new HostError('KTX_IMAGE_BUNDLE_INVALID', `The agent bundle ${bundle} does not exist`, {
      suggestions: [suggestion],
    })
  }
  const run = await runCommand(node, [bundle], {
    check: false,
    env: {},
    timeoutMs: 20_000,
    ...(signal ? { signal } : {}),
  })
  if (run.exitCode !== 1 || !run.stderr.includes(AGENT_ENV.authorizedKey)) {
    throw new HostError(
      'KTX_IMAGE_BUNDLE_INVALID',
      `The agent bundle ${bundle} did not start as expected under ${node} (exit ${run.exitCode}): ${run.stderr.trim().slice(-500)}`,
      { suggestions: [suggestion, 'Pass a Node.js 22.12+ binary with --node.'] },
    )
  }
}

function layerSize(layout: ImageLayout): number {
  const diffId = layout.config.rootfs.diff_ids[0] ?? ''
  const chunks = layout.files.get(`blobs/sha256/${diffId.slice('sha256:'.length)}`) ?? []
  return chunks.reduce((sum, chunk) => sum + chunk.length, 0)
}
