import { Flags } from '@oclif/core'
import type { MeshOptions, MeshTimeouts } from '@ktx/core'

import { kubeOptionsOf } from './exchange-flags.js'

/** Flags of `ktx mesh` (ktctl's names, with kebab-case aliases). */
export const meshFlags = {
  expose: Flags.string({
    description:
      'Ports to carry: local:remote[,local:remote…]; a bare port is the same on both sides. remote is a target port of the Service (the port its pods listen on).',
    required: true,
    env: 'KTX_EXPOSE',
  }),
  versionMark: Flags.string({
    description:
      'Which requests come here: val (header "VERSION: val"), key:val, or key: (a random value). Default: a random value under VERSION.',
    aliases: ['version-mark'],
  }),
  mode: Flags.string({
    description:
      'auto: a router in front of the Service sends requests carrying the mark here; manual: only a shadow pod with the Service’s labels plus <key>=<val>, for your own Istio/Linkerd rules.',
    options: ['auto', 'manual'],
    default: 'auto',
  }),
  leaseDuration: Flags.integer({
    description: 'Seconds without a renewal after which other ktx runs treat this session as dead.',
    aliases: ['lease-duration'],
    min: 10,
    env: 'KTX_LEASE_DURATION',
    hidden: true,
  }),
}

/** Parsed values of the flags `ktx mesh` uses. */
export interface MeshFlagValues {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
  readonly namespace?: string | undefined
  readonly image?: string | undefined
  readonly podCreationTimeout?: number | undefined
  readonly expose: string
  readonly versionMark?: string | undefined
  readonly mode: string
  readonly leaseDuration?: number | undefined
}

/** Maps the Service argument and flags to {@link MeshOptions} (pure); core validates them. */
export function toMeshOptions(service: string, flags: MeshFlagValues): MeshOptions {
  const timeouts: Partial<MeshTimeouts> =
    flags.podCreationTimeout === undefined ? {} : { podReadyMs: flags.podCreationTimeout * 1000 }
  return {
    service,
    expose: flags.expose,
    mode: flags.mode as MeshOptions['mode'] & string,
    kube: kubeOptionsOf(flags),
    ...(flags.versionMark === undefined ? {} : { versionMark: flags.versionMark }),
    ...(flags.image === undefined ? {} : { image: flags.image }),
    ...(flags.leaseDuration === undefined ? {} : { leaseDurationSeconds: flags.leaseDuration }),
    ...(Object.keys(timeouts).length === 0 ? {} : { timeouts }),
  }
}
