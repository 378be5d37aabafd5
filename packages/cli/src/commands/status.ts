import { localStatus } from '@ktx/core/local'

import { KtxCommand } from '../base-command.js'
import { statusFlags, toClusterStatusOptions } from '../flags/status.js'
import { renderClusterStatus, renderLocalStatus } from '../render/status.js'
import { stateDir } from '../user-config.js'

/** `ktx status`: the ktx sessions running here, or (`--cluster`) in the namespace. */
export default class Status extends KtxCommand {
  static override summary = 'List running ktx sessions'
  static override description =
    'Without --cluster: the sessions ktx processes on this machine hold (verb, namespace, target, ports, uptime, state); records of killed processes are removed. With --cluster: every ktx session in the namespace from its Lease (owner, verb, last renewal, alive or dead) and the Services it exchanged, meshed or previewed.'
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --cluster -n team-a',
    '<%= config.bin %> status --cluster --json',
  ]
  static override flags = statusFlags

  async run(): Promise<void> {
    const { flags } = await this.parse(Status)
    const { signal } = this.runtime(flags.debug)
    if (flags.cluster) {
      // Only --cluster needs the Kubernetes client; plain `ktx status` stays light (see @ktx/core/local).
      const { clusterStatus } = await import('@ktx/core')
      const report = await clusterStatus({ ...toClusterStatusOptions(flags), signal })
      this.result(report, renderClusterStatus(report))
      return
    }
    const report = await localStatus({ stateDir: stateDir() })
    this.result(report, renderLocalStatus(report))
  }
}
