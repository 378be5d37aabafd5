import { Flags } from '@oclif/core'
import type { ExchangeOptions, ExchangeTimeouts, KubeOptions } from '@ktx/core'

/** Flags of `ktx exchange` (ktctl's names, with kebab-case aliases). */
export const exchangeFlags = {
  expose: Flags.string({
    description:
      'Ports to carry: local:remote[,local:remote…]; a bare port is the same on both sides. remote is a target port of the Service (the port its pods listen on).',
    required: true,
    env: 'KTX_EXPOSE',
  }),
  mode: Flags.string({
    description:
      'selector: point the Service at the shadow pod; scale: the shadow pod takes the workload’s labels and the workload is scaled to 0 (works with Istio subsets).',
    options: ['selector', 'scale'],
    default: 'selector',
  }),
  recoverWaitTime: Flags.integer({
    description: 'Scale mode: seconds to wait on exit for the workload’s pods to be Ready again.',
    aliases: ['recover-wait-time'],
    min: 1,
  }),
  leaseDuration: Flags.integer({
    description:
      'Seconds without a renewal after which other ktx runs treat this session as dead and may take its Service over.',
    aliases: ['lease-duration'],
    min: 10,
    env: 'KTX_LEASE_DURATION',
    hidden: true,
  }),
}

/** Parsed values of the flags `ktx exchange` uses. */
export interface ExchangeFlagValues {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
  readonly namespace?: string | undefined
  readonly image?: string | undefined
  readonly podCreationTimeout?: number | undefined
  readonly expose: string
  readonly mode: string
  readonly recoverWaitTime?: number | undefined
  readonly leaseDuration?: number | undefined
}

/**
 * Maps the target argument and flags to {@link ExchangeOptions} (pure). Unset flags stay unset so
 * core's defaults (and the context's namespace) apply; core validates `--expose` and the target.
 */
export function toExchangeOptions(target: string, flags: ExchangeFlagValues): ExchangeOptions {
  const timeouts: Partial<ExchangeTimeouts> = {
    ...(flags.podCreationTimeout === undefined ? {} : { podReadyMs: flags.podCreationTimeout * 1000 }),
    ...(flags.recoverWaitTime === undefined ? {} : { recoverWaitMs: flags.recoverWaitTime * 1000 }),
  }
  return {
    target,
    expose: flags.expose,
    mode: flags.mode as 'selector' | 'scale',
    kube: kubeOptionsOf(flags),
    ...(flags.image === undefined ? {} : { image: flags.image }),
    ...(flags.leaseDuration === undefined ? {} : { leaseDurationSeconds: flags.leaseDuration }),
    ...(Object.keys(timeouts).length === 0 ? {} : { timeouts }),
  }
}

/** The kubeconfig/context/namespace flags as core's KubeOptions; unset ones stay unset. */
export function kubeOptionsOf(flags: {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
  readonly namespace?: string | undefined
}): KubeOptions {
  return {
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
  }
}
