import { Flags } from '@oclif/core'
import type { MeshMode, MeshOptions } from '@ktx/core'

import { debugFlag, kubeFlags, leaseDurationFlag, shadowPodFlags, toBaseOptions } from '../kube-flags.js'
import { oneOf } from './one-of.js'
import type { FlagValues } from './values.js'

/** Flags of `ktx mesh` (ktctl's names, with kebab-case aliases). */
export const meshFlags = {
  ...kubeFlags,
  ...shadowPodFlags,
  ...debugFlag,
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
  mode: oneOf<MeshMode>(['auto', 'manual'], {
    description:
      'auto: a router in front of the Service sends requests carrying the mark here; manual: only a shadow pod with the Service’s labels plus <key>=<val>, for your own Istio/Linkerd rules.',
    default: 'auto',
  }),
  ...leaseDurationFlag,
}

/** Parsed flag values of `ktx mesh`. */
export type MeshFlagValues = Omit<FlagValues<typeof meshFlags>, 'debug'>

/** Maps the Service argument and flags to {@link MeshOptions} (pure); core validates them. */
export function toMeshOptions(service: string, flags: MeshFlagValues): MeshOptions {
  return {
    ...toBaseOptions(flags, {}),
    service,
    expose: flags.expose,
    mode: flags.mode,
    ...(flags.versionMark === undefined ? {} : { versionMark: flags.versionMark }),
  }
}
