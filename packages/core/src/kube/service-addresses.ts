/**
 * The Services of some namespaces with their addresses (ClusterIP, or ready endpoint IPs for a
 * headless one), listed once and then kept current by watching Services and EndpointSlices; used
 * by the hosts mode.
 */
import { DiscoveryV1Api } from '@kubernetes/client-node'

import { messageOf } from '../errors.js'
import type { ServiceAddress } from '../dns/hosts-file.js'
import type { Logger } from '../logger.js'
import type { Kube } from './client.js'
import { type WatchObjectsOptions, keepWatching } from './watch.js'

/** Lists the Services of `namespaces` with their addresses. */
export async function listServiceAddresses(
  kube: Kube,
  namespaces: readonly string[],
  signal?: AbortSignal,
): Promise<ServiceAddress[]> {
  const discovery = kube.config.makeApiClient(DiscoveryV1Api)
  const out: ServiceAddress[] = []
  for (const namespace of namespaces) {
    const [services, slices] = await Promise.all([
      kube.call(
        { verb: 'list', resource: 'services', namespace },
        (o) => kube.core.listNamespacedService({ namespace }, o),
        signal,
      ),
      kube.call(
        { verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace },
        (o) => discovery.listNamespacedEndpointSlice({ namespace }, o),
        signal,
      ),
    ])
    const ready = new Map<string, string[]>()
    for (const slice of slices.items) {
      const service = slice.metadata?.labels?.['kubernetes.io/service-name']
      if (!service) continue
      // The API sends `endpoints: null` for a slice with none, whatever the type says.
      const endpoints = (slice.endpoints as typeof slice.endpoints | null) ?? []
      const ips = endpoints.filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)
      ready.set(service, [...(ready.get(service) ?? []), ...ips].sort())
    }
    for (const service of services.items) {
      const name = service.metadata?.name
      if (!name || service.spec?.type === 'ExternalName') continue
      const clusterIP = service.spec?.clusterIP
      out.push({
        name,
        namespace,
        clusterIP: clusterIP && clusterIP !== 'None' ? clusterIP : undefined,
        endpointIPs: ready.get(name) ?? [],
      })
    }
  }
  return out
}

/** A running watch. */
export interface ServiceAddressWatch {
  /** Stops watching. */
  close(): void
}

/**
 * Calls `onChange` with the full list whenever a Service or EndpointSlice in `namespaces` changes
 * (changes within 200 ms are coalesced). Watches resume after the server ends them and restart
 * with backoff after errors; they stop with `signal` or {@link ServiceAddressWatch.close}.
 */
export function watchServiceAddresses(
  kube: Kube,
  namespaces: readonly string[],
  options: {
    readonly onChange: (services: ServiceAddress[]) => void
    readonly logger: Logger
    readonly signal?: AbortSignal
  },
): ServiceAddressWatch {
  const stop = new AbortController()
  const signal = AbortSignal.any([stop.signal, ...(options.signal ? [options.signal] : [])])
  const log = options.logger.child({ component: 'service-watch' })
  let timer: NodeJS.Timeout | undefined
  const changed = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      listServiceAddresses(kube, namespaces, signal).then(options.onChange, (error: unknown) => {
        if (!signal.aborted) log.warn('Could not refresh Services', { error: messageOf(error) })
      })
    }, 200)
    timer.unref()
  }
  for (const namespace of namespaces) {
    for (const watch of collectionsOf(kube, namespace)) {
      void keepWatching(kube, {
        ...watch,
        signal,
        // A (re-)list may stand for changes the watch never reported.
        onSynced: changed,
        onEvent: (type) => {
          if (type !== 'SYNC') changed()
        },
        onError: (error, retryMs) => {
          log.debug('Watch ended with an error; restarting', {
            path: watch.path,
            error: messageOf(error),
            retryMs,
          })
        },
      })
    }
  }
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
  return { close: () => stop.abort() }
}

// The two collections whose changes move a namespace's addresses.
function collectionsOf(
  kube: Kube,
  namespace: string,
): Omit<WatchObjectsOptions<{ metadata?: { resourceVersion?: string } }>, 'onEvent' | 'signal'>[] {
  const discovery = kube.config.makeApiClient(DiscoveryV1Api)
  const ns = encodeURIComponent(namespace)
  return [
    {
      path: `/api/v1/namespaces/${ns}/services`,
      resource: 'services',
      list: (signal) =>
        kube.call(
          { verb: 'list', resource: 'services', namespace },
          (o) => kube.core.listNamespacedService({ namespace }, o),
          signal,
        ),
    },
    {
      path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      resource: 'endpointslices.discovery.k8s.io',
      list: (signal) =>
        kube.call(
          { verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace },
          (o) => discovery.listNamespacedEndpointSlice({ namespace }, o),
          signal,
        ),
    },
  ]
}
