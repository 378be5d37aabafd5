import { Args } from '@oclif/core'
import { exchange } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { exchangeFlags, toExchangeOptions } from '../flags/exchange.js'
import { renderExchangeReady } from '../render/exchange.js'
import { sessionJson } from '../render/json.js'

/** `ktx exchange`: the cluster's callers of a Service reach a process on this machine. */
export default class Exchange extends KtxCommand {
  static override summary = "Send a Service's traffic to ports on this machine"
  static override description =
    'A shadow pod listens on the Service’s target ports and carries every connection to localhost. Ctrl+C puts the Service (or the scaled workload) back exactly as it was.'
  static override examples = [
    '<%= config.bin %> exchange web --expose 3000:8080',
    '<%= config.bin %> exchange deploy/web --expose 3000:8080,9090 --mode scale -n team-a',
  ]
  static override args = {
    target: Args.string({
      description: 'The Service (web, svc/web) or the workload behind it (deploy/web, sts/web).',
      required: true,
    }),
  }
  static override flags = exchangeFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Exchange)
    const runtime = this.runtime(flags.debug)
    const session = await exchange({ ...toExchangeOptions(args.target, flags), ...runtime })
    const value = sessionJson(session, ['service', 'mode', 'workload', 'pod', 'expose', 'unexposed'])
    await this.ready(session, value, renderExchangeReady(session))
  }
}
