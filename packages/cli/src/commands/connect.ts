import { connect } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { connectFlags, kubeFlags, toConnectOptions } from '../flags.js'
import { renderReady } from '../render.js'

/** `ktx connect`: reach cluster Pod IPs, ClusterIPs and DNS names from this machine. */
export default class Connect extends KtxCommand {
  static override summary = 'Reach cluster Pod IPs, Service IPs and DNS names from this machine'
  static override description =
    'In socks mode (no root) ktx starts a SOCKS5 and an HTTP proxy on this machine; names resolve inside the cluster, so `svc`, `svc.ns` and FQDNs work.'
  static override examples = [
    '<%= config.bin %> connect --mode socks',
    '<%= config.bin %> connect --mode socks --socksPort 1080 --httpPort 3128 -n team-a',
  ]
  static override flags = { ...kubeFlags, ...connectFlags }

  async run(): Promise<void> {
    const { flags } = await this.parse(Connect)
    const runtime = this.runtime(flags.debug)
    const session = await connect({ ...toConnectOptions(flags), ...runtime })
    this.log(renderReady(session).join('\n'))
    await this.hold(session)
  }
}
