import type { BuiltImage, PushedImage } from '@ktx/core'

function size(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** What `ktx image build` wrote, and how to use it. */
export function renderImageBuilt(image: BuiltImage): string[] {
  const kind = image.format === 'oci-archive' ? 'OCI archive' : 'OCI image layout'
  const use =
    image.format === 'oci-archive'
      ? [
          `  into a cluster's containerd: ctr -n k8s.io images import ${image.output}`,
          `  to a registry: skopeo copy oci-archive:${image.output} docker://<registry>/ktx-shadow:<tag>   (or: ktx image push)`,
        ]
      : [`  to a registry: crane push ${image.output} <registry>/ktx-shadow:<tag>   (or: ktx image push)`]
  return [
    `Built ${image.name} (linux/${image.architecture}, ${size(image.layerSize)}) as an ${kind}: ${image.output}`,
    `  manifest ${image.digest}`,
    `  ${sshCryptoLine(image)}`,
    ...use,
    `Then: ktx config set image ${image.name}`,
  ]
}

function sshCryptoLine(image: BuiltImage): string {
  return image.sshCrypto.kind === 'native'
    ? "agent SSH crypto: ssh2's native addon"
    : `agent SSH crypto: Node's crypto API (${image.sshCrypto.reason})`
}

/** What `ktx image push` pushed. */
export function renderImagePushed(image: PushedImage): string[] {
  return [
    `Pushed ${image.ref} (linux/${image.architecture}, manifest ${image.digest}) with ${image.tool}`,
    `Use it by default: ktx config set image ${image.ref}`,
  ]
}
