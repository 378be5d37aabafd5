import { Flags } from '@oclif/core'
import type { ClusterStatusOptions } from '@ktx/core'

import { debugFlag, kubeFlags, toKubeOptions } from '../kube-flags.js'
import type { FlagValues } from './values.js'

/** Flags of `ktx status`. */
export const statusFlags = {
  ...kubeFlags,
  ...debugFlag,
  cluster: Flags.boolean({
    description:
      "List every ktx session in the namespace from its Lease (anyone's, alive or dead) instead of this machine's.",
    default: false,
  }),
}

/** Parsed flag values of `ktx status`. */
export type StatusFlagValues = Omit<FlagValues<typeof statusFlags>, 'debug'>

/** The kube options of `ktx status --cluster` (pure). */
export function toClusterStatusOptions(flags: StatusFlagValues): ClusterStatusOptions {
  return { kube: toKubeOptions(flags) }
}
