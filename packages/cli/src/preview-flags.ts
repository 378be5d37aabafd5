import { Flags } from '@oclif/core'
import type { PreviewOptions, PreviewTimeouts } from '@ktx/core'

import { kubeOptionsOf } from './exchange-flags.js'

/** Flags of `ktx preview` (ktctl's names, with kebab-case aliases). */
export const previewFlags = {
  expose: Flags.string({
    description:
      'Ports to publish: local:remote[,local:remote…]; a bare port is the same on both sides. Each remote port becomes a port of the new Service, answered by the local port.',
    required: true,
    env: 'KTX_EXPOSE',
  }),
  external: Flags.boolean({
    description: 'Create the Service as a LoadBalancer instead of ClusterIP.',
    default: false,
  }),
  leaseDuration: Flags.integer({
    description:
      'Seconds without a renewal after which other ktx runs treat this session as dead and may take the name over.',
    aliases: ['lease-duration'],
    min: 10,
    env: 'KTX_LEASE_DURATION',
    hidden: true,
  }),
}

/** Parsed values of the flags `ktx preview` uses. */
export interface PreviewFlagValues {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
  readonly namespace?: string | undefined
  readonly image?: string | undefined
  readonly podCreationTimeout?: number | undefined
  readonly expose: string
  readonly external: boolean
  readonly leaseDuration?: number | undefined
}

/**
 * Maps the name argument and flags to {@link PreviewOptions} (pure). Unset flags stay unset so
 * core's defaults (and the context's namespace) apply; core validates the name and `--expose`.
 */
export function toPreviewOptions(name: string, flags: PreviewFlagValues): PreviewOptions {
  const timeouts: Partial<PreviewTimeouts> =
    flags.podCreationTimeout === undefined ? {} : { podReadyMs: flags.podCreationTimeout * 1000 }
  return {
    name,
    expose: flags.expose,
    external: flags.external,
    kube: kubeOptionsOf(flags),
    ...(flags.image === undefined ? {} : { image: flags.image }),
    ...(flags.leaseDuration === undefined ? {} : { leaseDurationSeconds: flags.leaseDuration }),
    ...(Object.keys(timeouts).length === 0 ? {} : { timeouts }),
  }
}
