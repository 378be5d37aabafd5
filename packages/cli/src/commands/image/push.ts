import { pushShadowImage } from '@ktx/core'

import { KtxCommand } from '../../base-command.js'
import { imagePushFlags, toPushImageOptions } from '../../flags/image.js'
import { renderImagePushed } from '../../render/image.js'

/** `ktx image push`: build the shadow image and push it with a registry client on this machine. */
export default class ImagePush extends KtxCommand {
  static override summary = "Build the shadow agent's image and push it to a registry"
  static override description =
    'Builds the image like `ktx image build` and pushes it with the first usable client of skopeo, crane, podman, docker and ctr (log in with that client first). When none is usable it says which were found and why not, and the commands to push an archive yourself.'
  static override examples = [
    '<%= config.bin %> image push --registry ghcr.io/my-org',
    '<%= config.bin %> image push --tag registry.internal:5000/ktx-shadow:dev --insecure --tool skopeo',
  ]
  static override flags = imagePushFlags

  async run(): Promise<void> {
    const { flags } = await this.parse(ImagePush)
    const { signal } = this.runtime(flags.debug)
    const image = await pushShadowImage({ ...toPushImageOptions(flags, process.env), signal })
    this.result(image, renderImagePushed(image))
  }
}
