import { Flags } from '@oclif/core'
import type { CleanClusterOptions, CleanLocalOptions } from '@ktx/core'

import { debugFlag, kubeFlags, toKubeOptions } from '../kube-flags.js'
import type { FlagValues } from './values.js'

/** Flags of `ktx clean`. */
export const cleanFlags = {
  ...kubeFlags,
  ...debugFlag,
  dryRun: Flags.boolean({
    description: 'Only print what would be done.',
    aliases: ['dry-run'],
    default: false,
  }),
  localOnly: Flags.boolean({
    description: 'Only tidy this machine; leave the cluster alone.',
    aliases: ['local-only'],
    default: false,
    exclusive: ['clusterOnly'],
  }),
  allNamespaces: Flags.boolean({
    char: 'A',
    description:
      'Clean every namespace that holds ktx objects (needs cluster-wide list rights; see docs/rbac.md).',
    aliases: ['all-namespaces'],
    default: false,
    exclusive: ['namespace', 'localOnly'],
  }),
  clusterOnly: Flags.boolean({
    description: 'Only tidy the cluster namespace; leave this machine alone.',
    aliases: ['cluster-only'],
    default: false,
  }),
}

/** Parsed flag values of `ktx clean`. */
export type CleanFlagValues = Omit<FlagValues<typeof cleanFlags>, 'debug'>

/** The options both halves of `ktx clean` take, from the flags (pure). */
export function toCleanOptions(flags: CleanFlagValues): CleanLocalOptions & CleanClusterOptions {
  return { kube: toKubeOptions(flags), dryRun: flags.dryRun }
}
