import { Args } from '@oclif/core'
import { recover } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { recoverFlags, toRecoverOptions } from '../flags/recover.js'
import { renderRecover } from '../render/recover.js'

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
  static override flags = recoverFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Recover)
    const { logger, signal } = this.runtime(flags.debug)
    const report = await recover({ ...toRecoverOptions(args.service, flags), logger, signal })
    this.result(report, renderRecover(report))
  }
}
