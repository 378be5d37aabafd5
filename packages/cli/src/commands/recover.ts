import { Args, Flags } from '@oclif/core'
import { recover } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { kubeOptionsOf } from '../exchange-flags.js'
import { kubeFlags } from '../flags.js'
import { renderRecover } from '../render-exchange.js'

/** `ktx recover`: put back a Service a ktx session changed, once that session is gone. */
export default class Recover extends KtxCommand {
  static override summary = 'Put back a Service that a killed ktx session left redirected'
  static override description =
    'Restores the Service’s selector (or the scaled workload’s replicas) and deletes what the session made. Refuses while the session that holds the Service is still alive, unless --force.'
  static override examples = [
    '<%= config.bin %> recover web',
    '<%= config.bin %> recover web -n team-a --force',
  ]
  static override args = {
    service: Args.string({ description: 'The Service to put back.', required: true }),
  }
  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    namespace: kubeFlags.namespace,
    debug: kubeFlags.debug,
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

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Recover)
    const { logger, signal } = this.runtime(flags.debug)
    const report = await recover({
      service: args.service,
      force: flags.force,
      waitMs: flags.recoverWaitTime * 1000,
      kube: kubeOptionsOf(flags),
      logger,
      signal,
    })
    this.log(renderRecover(report).join('\n'))
  }
}
