import { Flags } from '@oclif/core'
import type { BaseOptions, KubeOptions, Timeouts } from '@ktx/core'

import { type FlagValues, type Renames, renamed } from './flags/values.js'

/** The kubeconfig, context and namespace flags every verb takes (ktctl's names). */
export const kubeFlags = {
  kubeconfig: Flags.string({ char: 'c', description: 'Path of the kubeconfig file.', env: 'KTX_KUBECONFIG' }),
  context: Flags.string({
    description: "Kubeconfig context to use (default: the kubeconfig's current one).",
    env: 'KTX_CONTEXT',
  }),
  namespace: Flags.string({
    char: 'n',
    description: "Namespace for ktx's objects (default: the context's namespace, then default).",
    env: 'KTX_NAMESPACE',
  }),
}

/** The flags of verbs that run a shadow pod (connect, exchange). */
export const shadowPodFlags = {
  image: Flags.string({
    char: 'i',
    description: 'Image of the shadow pod agent (default: `ktx config get image`).',
    env: 'KTX_IMAGE',
  }),
  podCreationTimeout: Flags.integer({
    description: 'Seconds to wait for the shadow pod to become Ready.',
    aliases: ['pod-creation-timeout'],
    min: 1,
  }),
  reconnectTimeout: Flags.integer({
    description:
      'Seconds a broken tunnel (API server, kubelet or network outage, deleted shadow pod) may take to come back before the session ends and restores everything.',
    aliases: ['reconnect-timeout'],
    min: 1,
    env: 'KTX_RECONNECT_TIMEOUT',
  }),
}

/** How long a session's lease lasts; hidden, for tests that need "the owner is gone" quickly. */
export const leaseDurationFlag = {
  leaseDuration: Flags.integer({
    description:
      'Seconds without a renewal after which other ktx runs treat this session as dead and may take its Service over.',
    aliases: ['lease-duration'],
    min: 10,
    env: 'KTX_LEASE_DURATION',
    hidden: true,
  }),
}

/** Every verb's `--debug`. */
export const debugFlag = {
  debug: Flags.boolean({ char: 'd', description: 'Print debug output.', default: false }),
}

export type KubeFlagValues = FlagValues<typeof kubeFlags>
export type ShadowPodFlagValues = KubeFlagValues &
  FlagValues<typeof shadowPodFlags> &
  FlagValues<typeof leaseDurationFlag>

const KUBE_OPTION_OF = {
  kubeconfig: 'kubeconfig',
  context: 'context',
  namespace: 'namespace',
} as const satisfies Renames<KubeFlagValues, KubeOptions>

/** The kubeconfig/context/namespace flags as core's KubeOptions; unset ones stay unset. */
export function toKubeOptions(flags: KubeFlagValues): KubeOptions {
  return renamed(flags, KUBE_OPTION_OF)
}

/**
 * The shadow pod flags as core's {@link BaseOptions} (seconds become milliseconds); `timeouts`
 * adds the verb's own. Unset flags stay unset so core's defaults and the context's namespace apply.
 */
export function toBaseOptions<T extends Timeouts>(
  flags: ShadowPodFlagValues,
  timeouts: Partial<T> = {},
): BaseOptions<T> & { readonly kube: KubeOptions } {
  const allTimeouts: Partial<T> = {
    ...(flags.podCreationTimeout === undefined ? {} : { podReadyMs: flags.podCreationTimeout * 1000 }),
    ...(flags.reconnectTimeout === undefined ? {} : { reconnectMs: flags.reconnectTimeout * 1000 }),
    ...timeouts,
  }
  return {
    kube: toKubeOptions(flags),
    ...renamed(flags, { image: 'image', leaseDuration: 'leaseDurationSeconds' } as const satisfies Renames<
      ShadowPodFlagValues,
      BaseOptions
    >),
    ...(Object.keys(allTimeouts).length === 0 ? {} : { timeouts: allTimeouts }),
  }
}
