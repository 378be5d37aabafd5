import { connect, planConnectRoutes } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { cleanEndedSessions } from '../clean-ended.js'
import { connectFlags, toConnectOptions } from '../flags/connect.js'
import { renderConnectReady } from '../render/connect.js'
import { renderRoutePlan } from '../render/tun.js'

/** `ktx connect`: reach cluster Pod IPs, ClusterIPs and DNS names from this machine. */
export default class Connect extends KtxCommand {
  static override summary = 'Reach cluster Pod IPs, Service IPs and DNS names from this machine'
  static override description =
    'In tun mode (the default; needs root) ktx adds a TUN device with routes to the cluster ranges and a local DNS server, so every program reaches Pod IPs, ClusterIPs and `svc`, `svc.ns` and FQDN names. In socks mode (no root) ktx starts a SOCKS5 and an HTTP proxy; names resolve inside the cluster.'
  static override examples = [
    'sudo -E <%= config.bin %> connect -n team-a',
    'sudo -E <%= config.bin %> connect --excludeIps 10.244.1.7 --dnsNamespaces team-b',
    '<%= config.bin %> connect --dryRun',
    '<%= config.bin %> connect --mode socks --socksPort 1080 --httpPort 3128 -n team-a',
  ]
  static override flags = connectFlags

  async run(): Promise<void> {
    const { flags } = await this.parse(Connect)
    const options = { ...toConnectOptions(flags), ...this.runtime(flags.debug) }
    if (flags.dryRun) {
      this.log(renderRoutePlan(await planConnectRoutes(options)).join('\n'))
      return
    }
    const session = await connect(options)
    this.log(renderConnectReady(session).join('\n'))
    const cleaning = cleanEndedSessions(options.kube, options)
    await this.hold(session)
    await cleaning
  }
}
