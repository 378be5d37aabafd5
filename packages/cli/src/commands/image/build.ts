import { buildShadowImage } from '@ktx/core'

import { KtxCommand } from '../../base-command.js'
import { imageBuildFlags, toBuildImageOptions } from '../../flags/image.js'
import { renderImageBuilt } from '../../render/image.js'

/** `ktx image build`: the shadow agent's image as an OCI archive or layout, without Docker. */
export default class ImageBuild extends KtxCommand {
  static override summary = "Build the shadow agent's image without Docker"
  static override description =
    "Puts this machine's Node.js binary, its shared libraries and the agent bundle into a one-layer OCI image with the same entrypoint, user, environment and ports as packages/shadow-image/Dockerfile, and writes it as an OCI archive (.tar) or image layout (directory). Linux only; for other architectures build the Dockerfile with docker buildx."
  static override examples = [
    '<%= config.bin %> image build',
    '<%= config.bin %> image build --output ktx-shadow.tar --tag localhost/ktx-shadow:dev',
    '<%= config.bin %> image build --output ./ktx-shadow-layout',
  ]
  static override flags = imageBuildFlags

  async run(): Promise<void> {
    const { flags } = await this.parse(ImageBuild)
    const { signal } = this.runtime(flags.debug)
    const image = await buildShadowImage({ ...toBuildImageOptions(flags), signal })
    this.result(image, renderImageBuilt(image))
  }
}
