import { cleanAllNamespaces, cleanCluster, cleanLocal } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { cleanFlags, toCleanOptions } from '../flags/clean.js'
import { renderCleanCluster, renderCleanLocal } from '../render/clean.js'
import { renderCleanAllNamespaces } from '../render/clean-all.js'

/** `ktx clean`: remove what killed ktx sessions left behind, on this machine and in the cluster. */
export default class Clean extends KtxCommand {
  static override summary = 'Remove what killed ktx sessions left behind'
  static override description =
    'On this machine, undoes the recorded changes (routes, TUN device, DNS) of ktx runs that are gone. In the namespace, finds the sessions whose lease has lapsed or is gone, puts back the Services and workloads they redirected, and deletes their pods and leases. Live sessions are left alone.'
  static override examples = [
    '<%= config.bin %> clean',
    '<%= config.bin %> clean -n team-a --dryRun',
    '<%= config.bin %> clean --localOnly',
    '<%= config.bin %> clean --all-namespaces --dryRun',
  ]
  static override flags = cleanFlags

  async run(): Promise<void> {
    const { flags } = await this.parse(Clean)
    const { logger, signal } = this.runtime(flags.debug)
    const options = { ...toCleanOptions(flags), logger, signal }
    const local = flags.clusterOnly ? undefined : await cleanLocal(options)
    if (flags.allNamespaces) {
      const all = await cleanAllNamespaces(options)
      this.result({ local, all }, [
        ...(local ? renderCleanLocal(local) : []),
        ...renderCleanAllNamespaces(all),
      ])
      return
    }
    const cluster = flags.localOnly ? undefined : await cleanCluster(options)
    const lines = [...(local ? renderCleanLocal(local) : []), ...(cluster ? renderCleanCluster(cluster) : [])]
    this.result({ local, cluster }, lines)
  }
}
