import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node'

import { KubeApiError, type KtxError } from '../errors.js'

/** What a pod's status says about waiting for it. */
export type PodVerdict =
  | { readonly state: 'ready' }
  | { readonly state: 'waiting'; readonly detail: string }
  | { readonly state: 'failed'; readonly error: KtxError }

// Reasons kubelet reports that will not fix themselves; ErrImagePull alone is retried, its
// ImagePullBackOff successor is where we give up.
const PULL_FAILURES = new Set([
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'ErrImageInspect',
])
const START_FAILURES = new Set([
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
])

/** How to give ktx an image the cluster can get; every way of choosing one, most local first. */
export const PULL_SUGGESTIONS: readonly string[] = [
  'Check the image name and tag, and that the cluster can pull it (registry access, imagePullSecrets).',
  'Use another image for this run: --image <ref>, or KTX_IMAGE=<ref> in the environment.',
  'Make it the default: ktx config set image <ref>.',
  'No image to use yet? Build one: ktx image push --registry <registry> (pushes <registry>/ktx-shadow), or ktx image build --output ktx-shadow.tar and import that into the cluster (ctr -n k8s.io images import ktx-shadow.tar, kind load image-archive ktx-shadow.tar).',
]

/**
 * Decides from one pod snapshot whether it is Ready, still coming up, or never will be (pure).
 * Failures name the pod and image and carry kubelet's reason and message.
 */
export function judgePod(pod: V1Pod, image: string): PodVerdict {
  const name = pod.metadata?.name ?? '(unnamed)'
  const namespace = pod.metadata?.namespace ?? ''
  const where = `pod ${namespace}/${name}`
  const status = pod.status
  if (pod.metadata?.deletionTimestamp) {
    return failed('KTX_SHADOW_FAILED', `Shadow ${where} is being deleted`, [
      'Something else deleted it (another ktx clean?); run the command again.',
    ])
  }
  const container: V1ContainerStatus | undefined = status?.containerStatuses?.[0]
  const waiting = container?.state?.waiting
  if (waiting?.reason && PULL_FAILURES.has(waiting.reason)) {
    return failed(
      'KTX_SHADOW_IMAGE_PULL',
      `Shadow ${where} cannot get image "${image}": ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`,
      PULL_SUGGESTIONS,
    )
  }
  if (waiting?.reason && START_FAILURES.has(waiting.reason)) {
    return failed(
      'KTX_SHADOW_CRASHED',
      `Shadow ${where} (image "${image}") cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`,
      [`Look at its logs: kubectl logs -n ${namespace} ${name}`, 'Check that --image is a ktx shadow image.'],
    )
  }
  const terminated = container?.state?.terminated ?? container?.lastState?.terminated
  if (terminated || status?.phase === 'Failed' || status?.phase === 'Succeeded') {
    const why = terminated
      ? `exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}${terminated.message ? `: ${terminated.message}` : ''}`
      : `is ${status?.phase ?? 'gone'}${status?.message ? `: ${status.message}` : ''}`
    return failed('KTX_SHADOW_CRASHED', `Shadow ${where} (image "${image}") ${why}`, [
      `Look at its logs: kubectl logs -n ${namespace} ${name}`,
      'Check that --image is a ktx shadow image for this machine architecture.',
    ])
  }
  const ready = status?.conditions?.find((c) => c.type === 'Ready')
  if (ready?.status === 'True') return { state: 'ready' }

  const scheduled = status?.conditions?.find((c) => c.type === 'PodScheduled')
  if (scheduled?.status === 'False') {
    return {
      state: 'waiting',
      detail: `not scheduled: ${scheduled.reason ?? ''} ${scheduled.message ?? ''}`.trim(),
    }
  }
  if (waiting?.reason) {
    return { state: 'waiting', detail: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` }
  }
  return { state: 'waiting', detail: `phase ${status?.phase ?? 'unknown'}, not Ready yet` }
}

function failed(code: KtxError['code'], message: string, suggestions: readonly string[]): PodVerdict {
  return { state: 'failed', error: new KubeApiError(code, message, { suggestions }) }
}
