import { Flags } from '@oclif/core'
import type { ExchangeOptions, ExchangeTimeouts } from '@ktx/core'

import { debugFlag, kubeFlags, leaseDurationFlag, shadowPodFlags, toBaseOptions } from '../kube-flags.js'
import { oneOf } from './one-of.js'
import type { FlagValues } from './values.js'

/** Flags of `ktx exchange` (ktctl's names, with kebab-case aliases). */
export const exchangeFlags = {
  ...kubeFlags,
  ...shadowPodFlags,
  ...debugFlag,
  expose: Flags.string({
    description:
      'Ports to carry: local:remote[,local:remote…]; a bare port is the same on both sides. remote is a target port of the Service (the port its pods listen on).',
    required: true,
    env: 'KTX_EXPOSE',
  }),
  mode: oneOf<NonNullable<ExchangeOptions['mode']>>(['selector', 'scale'], {
    description:
      'selector: point the Service at the shadow pod; scale: the shadow pod takes the workload’s labels and the workload is scaled to 0 (works with Istio subsets).',
    default: 'selector',
  }),
  recoverWaitTime: Flags.integer({
    description: 'Scale mode: seconds to wait on exit for the workload’s pods to be Ready again.',
    aliases: ['recover-wait-time'],
    min: 1,
  }),
  ...leaseDurationFlag,
}

/** Parsed flag values of `ktx exchange`. */
export type ExchangeFlagValues = Omit<FlagValues<typeof exchangeFlags>, 'debug'>

/**
 * Maps the target argument and flags to {@link ExchangeOptions} (pure). Unset flags stay unset so
 * core's defaults (and the context's namespace) apply; core validates `--expose` and the target.
 */
export function toExchangeOptions(target: string, flags: ExchangeFlagValues): ExchangeOptions {
  const timeouts: Partial<ExchangeTimeouts> =
    flags.recoverWaitTime === undefined ? {} : { recoverWaitMs: flags.recoverWaitTime * 1000 }
  return { ...toBaseOptions(flags, timeouts), target, expose: flags.expose, mode: flags.mode }
}
