import { connect, planConnectRoutes } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { connectFlags, toConnectOptions } from '../flags/connect.js'
import { renderConnectReady } from '../render/connect.js'
import { sessionJson } from '../render/json.js'
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
      const plan = await planConnectRoutes(options)
      this.result(plan, renderRoutePlan(plan))
      return
    }
    const session = await connect(options)
    const value = {
      ...sessionJson(session, ['pod', 'socks', 'http', 'tun']),
      mode: session.tun ? 'tun' : 'socks',
    }
    await this.ready(session, value, renderConnectReady(session))
  }
}
