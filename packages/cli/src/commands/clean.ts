import { Flags } from '@oclif/core'
import { cleanCluster, cleanLocal } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { kubeOptionsOf } from '../exchange-flags.js'
import { kubeFlags } from '../flags.js'
import { renderCleanCluster, renderCleanLocal } from '../render-exchange.js'

/** `ktx clean`: remove what killed ktx sessions left behind, on this machine and in the cluster. */
export default class Clean extends KtxCommand {
  static override summary = 'Remove what killed ktx sessions left behind'
  static override description =
    'On this machine, undoes the recorded changes (routes, TUN device, DNS) of ktx runs that are gone. In the namespace, finds the sessions whose lease has lapsed or is gone, puts back the Services and workloads they redirected, and deletes their pods and leases. Live sessions are left alone.'
  static override examples = [
    '<%= config.bin %> clean',
    '<%= config.bin %> clean -n team-a --dryRun',
    '<%= config.bin %> clean --localOnly',
  ]
  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    namespace: kubeFlags.namespace,
    debug: kubeFlags.debug,
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
    clusterOnly: Flags.boolean({
      description: 'Only tidy the cluster namespace; leave this machine alone.',
      aliases: ['cluster-only'],
      default: false,
    }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Clean)
    const { logger, signal } = this.runtime(flags.debug)
    const kube = kubeOptionsOf(flags)
    if (!flags.clusterOnly) {
      const local = await cleanLocal({ kube, dryRun: flags.dryRun, logger, signal })
      this.log(renderCleanLocal(local).join('\n'))
    }
    if (!flags.localOnly) {
      const report = await cleanCluster({ kube, dryRun: flags.dryRun, logger, signal })
      this.log(renderCleanCluster(report).join('\n'))
    }
  }
}
