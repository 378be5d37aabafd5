import { Flags } from '@oclif/core'
import type { RecoverOptions } from '@ktx/core'

import { debugFlag, kubeFlags, toKubeOptions } from '../kube-flags.js'
import type { FlagValues } from './values.js'

/** Flags of `ktx recover`. */
export const recoverFlags = {
  ...kubeFlags,
  ...debugFlag,
  force: Flags.boolean({
    description: 'Recover even while the owning session is alive (that session ends).',
    default: false,
  }),
  recoverWaitTime: Flags.integer({
    description: 'Seconds to wait for a scaled-back workload to be Ready (0: do not wait).',
    aliases: ['recover-wait-time'],
    min: 0,
    default: 120,
  }),
}

/** Parsed flag values of `ktx recover`. */
export type RecoverFlagValues = Omit<FlagValues<typeof recoverFlags>, 'debug'>

/** Maps the Service argument and flags to {@link RecoverOptions} (pure; seconds become milliseconds). */
export function toRecoverOptions(service: string, flags: RecoverFlagValues): RecoverOptions {
  return { service, force: flags.force, waitMs: flags.recoverWaitTime * 1000, kube: toKubeOptions(flags) }
}
