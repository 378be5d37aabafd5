/**
 * What the cluster's network looks like, from authoritative sources first (ktconnect.md §3.8):
 * - Service range: the `networking.k8s.io/v1` ServiceCIDR list (GA in 1.33); else the API server's
 *   answer to a dry-run Service with an out-of-range ClusterIP (its error names the valid range);
 *   else a sample of ClusterIPs.
 * - Pod ranges: the nodes' `spec.podCIDRs`; a sample of non-hostNetwork pod IPs only adds what
 *   those miss (CNIs such as Calico may not follow them).
 * - Never routed: the API server's addresses, node addresses, hostNetwork pod IPs.
 * Also the cluster DNS Service IP and the namespace list (for the local resolver).
 * The API calls are one thin adapter; {@link assembleClusterNetwork} is pure and table-tested.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

import { ApiException, NetworkingV1Api, type V1Node, type V1Pod } from '@kubernetes/client-node'

import { isKtxError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { type Cidr, contains, tryParseCidr } from '../net/cidr.js'
import { type ExcludedCidr, type SourcedCidr, cidrsFromSample } from '../net/route-plan.js'
import type { Kube } from './client.js'
import { sessionLabels } from './labels.js'

/** The cluster's network as ktx routes it. */
export interface ClusterNetwork {
  readonly services: readonly SourcedCidr[]
  readonly pods: readonly SourcedCidr[]
  /** API server, nodes, hostNetwork pods. */
  readonly never: readonly ExcludedCidr[]
  /** ClusterIP of the cluster DNS Service (`kube-system/kube-dns`), when found. */
  readonly dnsServiceIP: string | undefined
  /** ClusterIP of `default/kubernetes` (the API server as a Service), when readable. */
  readonly kubernetesServiceIP: string | undefined
  /** Every namespace, or undefined when listing them is not allowed. */
  readonly namespaces: ReadonlySet<string> | undefined
  /** How each part was found, or why a source was skipped; for the dry-run and the log. */
  readonly notes: readonly string[]
}

/** What the adapter read from the cluster; each part may be missing (forbidden, not served). */
export interface ClusterFacts {
  readonly serviceCidrApi?: readonly string[] | Unreadable
  readonly dryRunMessage?: string | Unreadable
  readonly serviceIPs?: readonly string[]
  readonly nodes?: readonly V1Node[] | Unreadable
  readonly pods?: readonly V1Pod[] | Unreadable
  readonly apiServerAddresses: readonly string[]
  readonly dnsServiceIP?: string | undefined
  readonly kubernetesServiceIP?: string | undefined
  readonly namespaces?: readonly string[] | undefined
}

/** A part of the cluster that could not be read, and why. */
export interface Unreadable {
  readonly error: string
}

// Narrows `X | Unreadable` (lint wants no single-use type parameter, so it takes unknown).
function failed(value: unknown): value is Unreadable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'error' in value
}

/** Turns what was read into ranges, exclusions and notes. Pure. */
export function assembleClusterNetwork(facts: ClusterFacts): ClusterNetwork {
  const notes: string[] = []
  const services: SourcedCidr[] = []
  const cidrs = (texts: readonly string[]): Cidr[] =>
    texts.map((t) => tryParseCidr(t)).filter((c): c is Cidr => c !== undefined)

  if (facts.serviceCidrApi && !failed(facts.serviceCidrApi) && facts.serviceCidrApi.length > 0) {
    services.push(
      ...cidrs(facts.serviceCidrApi).map((cidr) => ({ cidr, source: 'service-cidr-api' as const })),
    )
    notes.push(`Service range from the ServiceCIDR API: ${facts.serviceCidrApi.join(', ')}`)
  } else {
    if (failed(facts.serviceCidrApi)) notes.push(`ServiceCIDR API not usable: ${facts.serviceCidrApi.error}`)
    const fromDryRun =
      typeof facts.dryRunMessage === 'string' ? serviceRangeFromMessage(facts.dryRunMessage) : []
    if (fromDryRun.length > 0) {
      services.push(...fromDryRun.map((cidr) => ({ cidr, source: 'apiserver-dry-run' as const })))
      notes.push("Service range from the API server's answer to an out-of-range ClusterIP")
    } else {
      if (failed(facts.dryRunMessage))
        notes.push(`Dry-run Service create not usable: ${facts.dryRunMessage.error}`)
      const sampled = cidrsFromSample(cidrs(facts.serviceIPs ?? []))
      services.push(...sampled.map((cidr) => ({ cidr, source: 'service-sample' as const })))
      notes.push(
        sampled.length > 0
          ? 'Service range guessed from a sample of ClusterIPs (/16 around each); pass --includeIps to be exact'
          : 'No Service range found; pass it with --includeIps',
      )
    }
  }

  const never: ExcludedCidr[] = cidrs(facts.apiServerAddresses).map((cidr) => ({
    cidr,
    reason: 'api-server' as const,
  }))
  const pods: SourcedCidr[] = []
  if (facts.nodes && !failed(facts.nodes)) {
    for (const node of facts.nodes) {
      const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])
      pods.push(...cidrs(podCIDRs).map((cidr) => ({ cidr, source: 'node-pod-cidrs' as const })))
      for (const address of node.status?.addresses ?? []) {
        if (address.type !== 'InternalIP' && address.type !== 'ExternalIP') continue
        never.push(...cidrs([address.address]).map((cidr) => ({ cidr, reason: 'node' as const })))
      }
    }
    notes.push(`Pod ranges from ${facts.nodes.length} node(s) spec.podCIDRs`)
  } else if (failed(facts.nodes)) {
    notes.push(`Nodes not readable (${facts.nodes.error}); pod ranges come from sampling pods`)
  }

  if (facts.pods && !failed(facts.pods)) {
    const sampled: Cidr[] = []
    for (const pod of facts.pods) {
      const ips = cidrs((pod.status?.podIPs ?? []).map((p) => p.ip).concat(pod.status?.podIP ?? []))
      if (pod.spec?.hostNetwork)
        never.push(...ips.map((cidr) => ({ cidr, reason: 'host-network-pod' as const })))
      else sampled.push(...ips.filter((ip) => !pods.some((p) => contains(p.cidr, ip))))
    }
    const extra = cidrsFromSample(sampled)
    pods.push(...extra.map((cidr) => ({ cidr, source: 'pod-sample' as const })))
    if (extra.length > 0) notes.push(`Pod IPs outside the nodes' podCIDRs were sampled (/16 around each)`)
  } else if (failed(facts.pods)) {
    notes.push(`Pods not listable: ${facts.pods.error}`)
  }
  return {
    services,
    pods,
    never: dedupe(never),
    dnsServiceIP: facts.dnsServiceIP,
    kubernetesServiceIP: facts.kubernetesServiceIP,
    namespaces: facts.namespaces ? new Set(facts.namespaces) : undefined,
    notes,
  }
}

/**
 * The valid Service range(s) from the API server's message for an out-of-range ClusterIP, e.g.
 * `… is not in the valid range. The range of valid IPs is 10.96.0.0/16`.
 */
export function serviceRangeFromMessage(message: string): Cidr[] {
  const tail = /valid IPs? (?:is|are)\s+(.*)$/is.exec(message)?.[1] ?? ''
  return (tail.match(/[0-9a-fA-F:.]+\/\d{1,3}/g) ?? [])
    .map((t) => tryParseCidr(t))
    .filter((c): c is Cidr => c !== undefined)
}

/**
 * Reads the cluster's network (parallel API calls, each allowed to fail on its own).
 * @throws only `signal.reason`; unreadable parts become notes.
 */
export async function discoverClusterNetwork(
  kube: Kube,
  options: { readonly signal?: AbortSignal; readonly logger: Logger; readonly sessionId: string },
): Promise<ClusterNetwork> {
  const { signal } = options
  const networking = kube.config.makeApiClient(NetworkingV1Api)
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | Unreadable> => {
    try {
      return await fn()
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      return { error: isKtxError(error) ? error.message : messageOf(error) }
    }
  }
  const [serviceCidrApi, nodes, pods, apiServerAddresses, dnsServiceIP, namespaces, kubernetesService] =
    await Promise.all([
      attempt(async () => {
        const list = await kube.call(
          { verb: 'list', resource: 'servicecidrs.networking.k8s.io' },
          (o) => networking.listServiceCIDR({}, o),
          signal,
        )
        return list.items.flatMap((item) => item.spec?.cidrs ?? [])
      }),
      attempt(
        async () =>
          (await kube.call({ verb: 'list', resource: 'nodes' }, (o) => kube.core.listNode({}, o), signal))
            .items,
      ),
      attempt(() => samplePods(kube, signal)),
      resolveHost(new URL(kube.server).hostname),
      clusterDnsIP(kube, signal),
      attempt(async () =>
        (
          await kube.call(
            { verb: 'list', resource: 'namespaces' },
            (o) => kube.core.listNamespace({}, o),
            signal,
          )
        ).items
          .map((ns) => ns.metadata?.name ?? '')
          .filter((name) => name !== ''),
      ),
      attempt(() =>
        kube.call(
          { verb: 'get', resource: 'services', namespace: 'default', name: 'kubernetes' },
          (o) => kube.core.readNamespacedService({ name: 'kubernetes', namespace: 'default' }, o),
          signal,
        ),
      ),
    ])
  const apiListed = !failed(serviceCidrApi) && serviceCidrApi.length > 0
  const dryRunMessage = apiListed ? undefined : await dryRunOutOfRange(kube, options.sessionId, signal)
  const serviceIPs =
    apiListed || (typeof dryRunMessage === 'string' && serviceRangeFromMessage(dryRunMessage).length > 0)
      ? []
      : await sampleServiceIPs(kube, signal)
  const network = assembleClusterNetwork({
    serviceCidrApi,
    ...(dryRunMessage === undefined ? {} : { dryRunMessage }),
    serviceIPs,
    nodes,
    pods,
    apiServerAddresses,
    dnsServiceIP,
    kubernetesServiceIP: failed(kubernetesService) ? undefined : kubernetesService.spec?.clusterIP,
    namespaces: failed(namespaces) ? undefined : namespaces,
  })
  options.logger.debug('Cluster network discovered', { notes: network.notes })
  return network
}

// A cluster-wide list needs cluster RBAC; the session's own namespace is the fallback.
async function samplePods(kube: Kube, signal?: AbortSignal): Promise<V1Pod[]> {
  try {
    return (
      await kube.call(
        { verb: 'list', resource: 'pods' },
        (o) => kube.core.listPodForAllNamespaces({ limit: 500 }, o),
        signal,
      )
    ).items
  } catch {
    if (signal?.aborted) throw signal.reason
    const namespace = kube.namespace
    return (
      await kube.call(
        { verb: 'list', resource: 'pods', namespace },
        (o) => kube.core.listNamespacedPod({ namespace, limit: 500 }, o),
        signal,
      )
    ).items
  }
}

async function sampleServiceIPs(kube: Kube, signal?: AbortSignal): Promise<string[]> {
  try {
    const list = await kube.call(
      { verb: 'list', resource: 'services' },
      (o) => kube.core.listServiceForAllNamespaces({ limit: 500 }, o),
      signal,
    )
    return list.items.map((s) => s.spec?.clusterIP ?? '').filter((ip) => isIP(ip) !== 0)
  } catch {
    if (signal?.aborted) throw signal.reason
    return []
  }
}

// The API server refuses a ClusterIP outside its range and says which range is valid. Dry-run:
// nothing is created.
async function dryRunOutOfRange(
  kube: Kube,
  sessionId: string,
  signal?: AbortSignal,
): Promise<string | Unreadable> {
  const namespace = kube.namespace
  try {
    await kube.call(
      { verb: 'create', resource: 'services', namespace },
      (o) =>
        kube.core.createNamespacedService(
          {
            namespace,
            dryRun: 'All',
            body: {
              metadata: { name: `ktx-cidr-probe-${sessionId}`, labels: sessionLabels(sessionId, 'session') },
              spec: { clusterIP: '0.0.0.1', ports: [{ port: 1 }] },
            },
          },
          o,
        ),
      signal,
    )
    return { error: 'the API server accepted 0.0.0.1 as a ClusterIP' }
  } catch (error) {
    if (signal?.aborted) throw signal.reason
    const cause = isKtxError(error) ? error.cause : error
    if (cause instanceof ApiException && cause.code === 422) return statusMessage(cause.body)
    return { error: messageOf(error) }
  }
}

function statusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body
    } catch {
      return body
    }
  }
  return (body as { message?: string } | undefined)?.message ?? ''
}

async function clusterDnsIP(kube: Kube, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const service = await kube.call(
      { verb: 'get', resource: 'services', namespace: 'kube-system', name: 'kube-dns' },
      (o) => kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' }, o),
      signal,
    )
    const ip = service.spec?.clusterIP
    if (ip && isIP(ip) !== 0) return ip
  } catch {
    if (signal?.aborted) throw signal.reason
  }
  try {
    const list = await kube.call(
      { verb: 'list', resource: 'services', namespace: 'kube-system' },
      (o) =>
        kube.core.listNamespacedService({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' }, o),
      signal,
    )
    return list.items.map((s) => s.spec?.clusterIP ?? '').find((ip) => isIP(ip) !== 0)
  } catch {
    if (signal?.aborted) throw signal.reason
    return undefined
  }
}

// The API server by IP: its URL's host, resolved when it is a name (every address, both families).
async function resolveHost(hostname: string): Promise<string[]> {
  const bare = hostname.replace(/^\[|\]$/g, '')
  if (isIP(bare) !== 0) return [bare]
  try {
    return (await lookup(bare, { all: true })).map((a) => a.address)
  } catch {
    return []
  }
}

function dedupe(list: ExcludedCidr[]): ExcludedCidr[] {
  const seen = new Set<string>()
  return list.filter((e) => {
    const key = `${e.cidr.family}:${e.cidr.base}/${e.cidr.prefix}:${e.reason}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
