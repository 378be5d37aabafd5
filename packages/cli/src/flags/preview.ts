import { Flags } from '@oclif/core'
import type { PreviewOptions } from '@ktx/core'

import { debugFlag, kubeFlags, leaseDurationFlag, shadowPodFlags, toBaseOptions } from '../kube-flags.js'
import type { FlagValues } from './values.js'

/** Flags of `ktx preview` (ktctl's names, with kebab-case aliases). */
export const previewFlags = {
  ...kubeFlags,
  ...shadowPodFlags,
  ...debugFlag,
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
  ...leaseDurationFlag,
}

/** Parsed flag values of `ktx preview`. */
export type PreviewFlagValues = Omit<FlagValues<typeof previewFlags>, 'debug'>

/**
 * Maps the name argument and flags to {@link PreviewOptions} (pure). Unset flags stay unset so
 * core's defaults (and the context's namespace) apply; core validates the name and `--expose`.
 */
export function toPreviewOptions(name: string, flags: PreviewFlagValues): PreviewOptions {
  return { ...toBaseOptions(flags, {}), name, expose: flags.expose, external: flags.external }
}
