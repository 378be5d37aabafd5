import { Args } from '@oclif/core'
import { mesh } from '@ktx/core'

import { KtxCommand } from '../base-command.js'
import { meshFlags, toMeshOptions } from '../flags/mesh.js'
import { sessionJson } from '../render/json.js'
import { renderMeshReady } from '../render/mesh.js'

/** `ktx mesh`: only requests carrying this developer's mark reach a process on this machine. */
export default class Mesh extends KtxCommand {
  static override summary = 'Send only requests with your version mark to ports on this machine'
  static override description =
    'Requests to the Service that carry the header of your --versionMark come here; everyone else keeps using the real pods. Several developers can mesh one Service at once, each with their own mark. Routes HTTP/1.1 (per request, keep-alive included), WebSocket and HTTP/2 cleartext (gRPC, per stream). Ctrl+C stops; the last one out puts the Service back exactly.'
  static override examples = [
    '<%= config.bin %> mesh web --expose 3000:8080 --versionMark alice',
    '<%= config.bin %> mesh web --expose 3000:8080 --versionMark x-dev:',
    '<%= config.bin %> mesh web --expose 3000:8080 --versionMark canary --mode manual -n team-a',
  ]
  static override args = {
    service: Args.string({ description: 'The Service to mesh (web, svc/web).', required: true }),
  }
  static override flags = meshFlags

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Mesh)
    const runtime = this.runtime(flags.debug)
    const session = await mesh({ ...toMeshOptions(args.service, flags), ...runtime })
    const keys = ['service', 'mode', 'mark', 'pod', 'router', 'meshService', 'expose', 'servicePort'] as const
    await this.ready(session, sessionJson(session, keys), renderMeshReady(session))
  }
}
