import { Args } from '@oclif/core'
import { preview } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { previewFlags, toPreviewOptions } from '../flags/preview.js'
import { sessionJson } from '../render/json.js'
import { renderPreviewReady } from '../render/preview.js'

/** `ktx preview`: a process on this machine appears in the cluster as a new Service. */
export default class Preview extends KtxCommand {
  static override summary = 'Publish ports on this machine as a new Service in the cluster'
  static override description =
    'Creates the Service <name> (ClusterIP, or LoadBalancer with --external) backed by a shadow pod that carries every connection to localhost. A Service of that name that ktx did not make is refused and nothing is created. Ctrl+C deletes the Service and the pod.'
  static override examples = [
    '<%= config.bin %> preview web-preview --expose 3000:80',
    '<%= config.bin %> preview web-preview --expose 3000:80,9090 --external -n team-a',
  ]
  static override args = {
    name: Args.string({ description: 'Name of the new Service.', required: true }),
  }
  static override flags = previewFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Preview)
    const runtime = this.runtime(flags.debug)
    const session = await preview({ ...toPreviewOptions(args.name, flags), ...runtime })
    const value = sessionJson(session, ['service', 'type', 'clusterIP', 'pod', 'expose'])
    await this.ready(session, value, renderPreviewReady(session))
  }
}
