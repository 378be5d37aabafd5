import { Flags } from '@oclif/core'
import { cleanCluster } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { kubeOptionsOf } from '../exchange-flags.js'
import { kubeFlags } from '../flags.js'
import { renderCleanCluster } from '../render-exchange.js'

/** `ktx clean`: remove what killed ktx sessions left behind. */
export default class Clean extends KtxCommand {
  static override summary = 'Remove what killed ktx sessions left behind'
  static override description =
    'In the namespace, finds the sessions whose lease has lapsed or is gone, puts back the Services and workloads they redirected, and deletes their pods and leases. Live sessions are left alone.'
  static override examples = ['<%= config.bin %> clean', '<%= config.bin %> clean -n team-a --dryRun']
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
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Clean)
    const { logger, signal } = this.runtime(flags.debug)
    const report = await cleanCluster({ kube: kubeOptionsOf(flags), dryRun: flags.dryRun, logger, signal })
    this.log(renderCleanCluster(report).join('\n'))
  }
}
