import type { V1PodSpec, V1Service } from '@kubernetes/client-node'

import { KubeApiError, UsageError } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { findPodSpec } from '../../kube/pod-spec.js'
import { selectorMatches } from '../../kube/redirect-state.js'
import { listServices, readService } from '../../kube/service.js'
import { type Workload, describeWorkload, listWorkloads, readWorkload } from '../../kube/workload.js'
import type { ExchangeTarget } from './options.js'

/** The objects an exchange works on. */
export interface ResolvedTarget {
  readonly service: V1Service
  readonly serviceName: string
  /** The workload running the Service's pods; always set in scale mode. */
  readonly workload: Workload | undefined
  /** A pod spec of the Service's pods, for resolving named target ports. */
  readonly podSpec: V1PodSpec | undefined
}

/**
 * Finds the Service (and, for scale mode, the one Deployment or StatefulSet whose pod template
 * carries the Service's selector). A workload target is mapped to the one Service selecting it.
 * @throws KubeApiError `KTX_SERVICE_NOT_FOUND` / `KTX_WORKLOAD_NOT_FOUND`, UsageError
 *   `KTX_TARGET_AMBIGUOUS` listing the candidates, or API errors.
 */
export async function resolveTarget(
  kube: Kube,
  target: ExchangeTarget,
  mode: 'selector' | 'scale',
  signal?: AbortSignal,
): Promise<ResolvedTarget> {
  const namespace = kube.namespace
  if (target.kind !== 'Service') {
    const workload = await readWorkload(kube, { kind: target.kind, name: target.name }, signal)
    const services = (await listServices(kube, signal)).filter((s) =>
      selectorMatches(s.spec?.selector, workload.templateLabels),
    )
    const what = describeWorkload(workload.ref)
    const [service, ...others] = services
    if (service === undefined) {
      throw new KubeApiError(
        'KTX_SERVICE_NOT_FOUND',
        `No Service in namespace "${namespace}" selects the pods of ${what}`,
        {
          suggestions: [
            'Exchange needs a Service to redirect; use `ktx preview` to publish a local port as a new one.',
          ],
        },
      )
    }
    if (others.length > 0) {
      throw ambiguous(
        `${what} is selected by several Services`,
        services.map((s) => `svc/${s.metadata?.name ?? ''}`),
      )
    }
    return { service, serviceName: service.metadata?.name ?? '', workload, podSpec: workload.podSpec }
  }

  const service = await readService(kube, target.name, signal)
  const selector = service.spec?.selector
  const workloads = (await listWorkloads(kube, signal)).filter((w) =>
    selectorMatches(selector, w.templateLabels),
  )
  if (mode === 'scale' && workloads.length !== 1) {
    if (workloads.length > 1) {
      throw ambiguous(
        `Several workloads run the pods of Service "${target.name}"`,
        workloads.map((w) => describeWorkload(w.ref)),
      )
    }
    throw new KubeApiError(
      'KTX_WORKLOAD_NOT_FOUND',
      `No Deployment or StatefulSet in namespace "${namespace}" runs the pods of Service "${target.name}"`,
      { suggestions: ['Scale mode needs one; use --mode selector instead.'] },
    )
  }
  const workload = workloads[0]
  const podSpec = workload?.podSpec ?? (await findPodSpec(kube, selector, signal))
  return { service, serviceName: target.name, workload: mode === 'scale' ? workload : undefined, podSpec }
}

function ambiguous(message: string, candidates: readonly string[]): UsageError {
  return new UsageError(`${message}: ${candidates.join(', ')}`, {
    code: 'KTX_TARGET_AMBIGUOUS',
    suggestions: [`Name the one you mean, e.g. ktx exchange ${candidates[0] ?? ''} …`],
    data: { candidates },
  })
}
