import type { V1EndpointSlice } from '@kubernetes/client-node'

import { TimeoutError } from '../errors.js'
import type { Kube } from './client.js'
import { waitForWatched } from './wait.js'

/** Options of {@link waitServiceEndpoints}. */
export interface WaitEndpointsOptions {
  readonly service: string
  /** True once the Service's ready endpoint IPs are as wanted. */
  readonly until: (readyIPs: ReadonlySet<string>) => boolean
  /** What is awaited, for the timeout message ("only the shadow pod 10.244.0.7"). */
  readonly awaited: string
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

/**
 * Watches the Service's EndpointSlices until its ready endpoint IPs satisfy `until`. This is what
 * the cluster's proxies act on, so it is the observable moment a switch took effect.
 * @throws TimeoutError `KTX_ENDPOINTS_NOT_READY` (option `timeouts.endpointsMs`), KtxErrors from
 *   the watch, or `signal.reason`.
 */
export async function waitServiceEndpoints(kube: Kube, options: WaitEndpointsOptions): Promise<void> {
  const namespace = kube.namespace
  const labelSelector = `kubernetes.io/service-name=${options.service}`
  const slices = new Map<string, V1EndpointSlice>()
  const readyIPs = (): Set<string> => {
    const ips = new Set<string>()
    for (const slice of slices.values()) {
      for (const endpoint of slice.endpoints) {
        // Per the API, an unset `ready` means "unknown", which consumers treat as ready.
        if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue
        for (const address of endpoint.addresses) ips.add(address)
      }
    }
    return ips
  }
  await waitForWatched<V1EndpointSlice>(kube, {
    watch: {
      path: `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
      resource: 'endpointslices',
      labelSelector,
      list: (signal) =>
        kube.call(
          { verb: 'list', resource: 'endpointslices', namespace },
          (o) => kube.discovery.listNamespacedEndpointSlice({ namespace, labelSelector }, o),
          signal,
        ),
    },
    reset: () => {
      slices.clear()
    },
    reduce: (type, slice) => {
      const name = slice.metadata?.name ?? ''
      if (type === 'DELETED') slices.delete(name)
      else slices.set(name, slice)
    },
    done: () => options.until(readyIPs()),
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onTimeout: () =>
      new TimeoutError(
        'KTX_ENDPOINTS_NOT_READY',
        `Service ${namespace}/${options.service} did not switch to ${options.awaited} within ${Math.round(options.timeoutMs / 1000)}s (ready endpoints: ${[...readyIPs()].join(', ') || 'none'})`,
        {
          option: 'timeouts.endpointsMs',
          timeoutMs: options.timeoutMs,
          suggestions: [
            `Look at the Service's endpoints: kubectl get endpointslices -n ${namespace} -l ${labelSelector}`,
          ],
        },
      ),
  })
}
