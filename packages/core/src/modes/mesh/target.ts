import type { V1Service } from '@kubernetes/client-node'

import { KubeApiError } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { findPodSpec } from '../../kube/pod-spec.js'
import { readLock, readMeshRecord } from '../../kube/redirect-state.js'
import { requireSelector } from '../../kube/service-lock.js'
import { readService } from '../../kube/service.js'
import { exchangedError } from '../shared/mesh-group.js'
import { type ExposePlan, type TargetPort, planExpose, targetPortsOf } from '../shared/target-ports.js'
import type { ResolvedMeshOptions } from './options.js'

/** The Service a mesh works on, with the selector of its real pods and the port plan. */
export interface MeshTarget {
  readonly service: V1Service
  readonly name: string
  /** The real pods' selector: the Service's own, or the mesh record's when it is meshed already. */
  readonly selector: Readonly<Record<string, string>>
  readonly targets: readonly TargetPort[]
  readonly plan: ExposePlan
}

/**
 * Reads the Service and checks `--expose` against its target ports; makes no change.
 * @throws KubeApiError `KTX_SERVICE_NOT_FOUND` / `KTX_SERVICE_NO_SELECTOR`, ConflictError
 *   `KTX_SERVICE_LOCKED` (an exchange holds it), UsageError `KTX_EXPOSE_INVALID`.
 */
export async function planMeshTarget(
  kube: Kube,
  opts: ResolvedMeshOptions,
  signal: AbortSignal,
): Promise<MeshTarget> {
  const name = opts.service
  const service = await readService(kube, name, signal)
  const annotations = service.metadata?.annotations
  const lock = readLock(annotations)
  if (lock.state === 'valid') {
    throw exchangedError(name, `${lock.value.owner} (session ${lock.value.session})`)
  }
  const record = readMeshRecord(annotations)
  if (record.state === 'corrupt') {
    throw new KubeApiError('KTX_SERVICE_LOCKED', `Service "${name}" has an unreadable ktx.dev/mesh record`, {
      suggestions: [
        `Check it (kubectl get service -n ${kube.namespace} ${name} -o yaml), then run \`ktx recover ${name}\`.`,
      ],
    })
  }
  const selector = record.state === 'valid' ? record.value.selector : service.spec?.selector
  requireSelector(kube, name, selector)
  const targets = targetPortsOf(service, await findPodSpec(kube, selector, signal))
  return { service, name, selector, targets, plan: planExpose(name, opts.expose, targets) }
}
