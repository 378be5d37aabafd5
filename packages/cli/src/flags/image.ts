import { fileURLToPath } from 'node:url'

import { Flags } from '@oclif/core'
import { type BuildImageOptions, PUSH_TOOLS, type PushImageOptions } from '@ktx/core'

import { debugFlag } from '../kube-flags.js'
import type { FlagValues } from './values.js'

/** The flags both `ktx image` verbs take: what goes into the image. */
const contentFlags = {
  bundle: Flags.string({
    description: "The agent bundle to put in the image (default: @ktx/shadow-image's dist/agent.mjs).",
  }),
  node: Flags.string({
    description: 'The Linux Node.js binary to put in the image (default: the one running ktx).',
  }),
  sshCrypto: Flags.string({
    description:
      "ssh2's native crypto addon (sshcrypto.node) for the agent, built for --node (default: the one ssh2's install built for ktx, when it loads under --node).",
    exclusive: ['noSshCrypto'],
  }),
  noSshCrypto: Flags.boolean({
    description:
      "Leave ssh2's native crypto out: the agent uses Node's crypto API (about twice its CPU per GB).",
  }),
  ...debugFlag,
}

/** Flags of `ktx image build`. */
export const imageBuildFlags = {
  output: Flags.string({
    char: 'o',
    description: 'Where to write: a directory (OCI image layout) or a file ending in .tar (OCI archive).',
    default: 'ktx-shadow.tar',
  }),
  tag: Flags.string({
    char: 't',
    description: 'Image name recorded in the layout (what `ctr images import` names it).',
  }),
  ...contentFlags,
}

/** Flags of `ktx image push`. */
export const imagePushFlags = {
  registry: Flags.string({
    char: 'r',
    description: 'Registry and path to push to; the image becomes <registry>/ktx-shadow:<ktx version>.',
    exactlyOne: ['registry', 'tag'],
  }),
  tag: Flags.string({ char: 't', description: 'Full image reference to push to instead of --registry.' }),
  tool: Flags.string({
    description: 'Registry client to use (default: the first usable one).',
    options: [...PUSH_TOOLS],
  }),
  insecure: Flags.boolean({
    description: 'The registry speaks plain HTTP or has a self-signed certificate.',
  }),
  ...contentFlags,
}

/** Parsed flag values of `ktx image build` / `push`. */
export type ImageBuildFlagValues = Omit<FlagValues<typeof imageBuildFlags>, 'debug'>
export type ImagePushFlagValues = Omit<FlagValues<typeof imagePushFlags>, 'debug'>

/** The bundle this installation of ktx ships (resolved through @ktx/shadow-image's exports). */
export function defaultBundle(): string {
  return fileURLToPath(import.meta.resolve('@ktx/shadow-image/agent.mjs'))
}

/** Maps `ktx image build` flags to core's options (pure but for the default bundle's path). */
export function toBuildImageOptions(flags: ImageBuildFlagValues): BuildImageOptions {
  return {
    bundle: flags.bundle ?? defaultBundle(),
    output: flags.output,
    ...(flags.tag === undefined ? {} : { name: flags.tag }),
    ...(flags.node === undefined ? {} : { node: flags.node }),
    ...sshCryptoOption(flags),
  }
}

function sshCryptoOption(
  flags: ImageBuildFlagValues | ImagePushFlagValues,
): Pick<BuildImageOptions, 'sshCrypto'> {
  if (flags.noSshCrypto) return { sshCrypto: false }
  return flags.sshCrypto === undefined ? {} : { sshCrypto: flags.sshCrypto }
}

/** Maps `ktx image push` flags and the environment (PATH, CONTAINERD_ADDRESS) to core's options. */
export function toPushImageOptions(flags: ImagePushFlagValues, env: NodeJS.ProcessEnv): PushImageOptions {
  return {
    bundle: flags.bundle ?? defaultBundle(),
    ...(flags.registry === undefined ? {} : { registry: flags.registry }),
    ...(flags.tag === undefined ? {} : { ref: flags.tag }),
    ...(flags.node === undefined ? {} : { node: flags.node }),
    ...sshCryptoOption(flags),
    ...(flags.tool === undefined ? {} : { tool: flags.tool as PushImageOptions['tool'] & string }),
    insecure: flags.insecure,
    path: env.PATH ?? '',
    ...(env.CONTAINERD_ADDRESS === undefined ? {} : { containerdSocket: env.CONTAINERD_ADDRESS }),
  }
}
