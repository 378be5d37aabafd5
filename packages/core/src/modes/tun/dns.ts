/**
 * Name resolution for a TUN session, after the routes are up:
 * - localDNS: a local DNS server (cluster names over TCP DNS to the cluster DNS Service through
 *   the SOCKS5 proxy and SSH; the rest to the original upstream), then the system resolver
 *   pointed at it;
 * - hosts: a marked hosts-file block of the chosen namespaces' Services, kept current;
 * - none: nothing.
 * Every host change is journalled first (applyChange) and undone on close.
 */
import { searchDomains } from '../../dns/resolver.js'
import { createForwarder } from '../../dns/forwarder.js'
import { type DnsTransport, createStreamTransport, createUdpTransport } from '../../dns/transport.js'
import { addHostsBlock, defaultHostsPath, hostsEntries, updateHostsBlock } from '../../dns/hosts-file.js'
import { startDnsServer } from '../../dns/server.js'
import { openSystemResolver } from '../../dns/system/index.js'
import { TunnelError, messageOf } from '../../errors.js'
import { type ChangeContext, applyChange } from '../../host/undo.js'
import type { Kube } from '../../kube/client.js'
import type { ClusterNetwork } from '../../kube/cluster-network.js'
import { listServiceAddresses, watchServiceAddresses } from '../../kube/service-addresses.js'
import type { Cidr } from '../../net/cidr.js'
import type { RouteTable } from '../../net/routes/types.js'
import { socks5Connect } from '../../tunnel/socks-client.js'
import type { DnsMode, ResolvedDnsOptions } from './options.js'

/** How names resolve in a running TUN session. */
export interface DnsLayer {
  readonly mode: DnsMode
  /** localDNS: where ktx's server listens (`host:port`). */
  readonly address?: string
  /** localDNS: how the system resolver was pointed at it. */
  readonly resolver?: string
  /** hosts: the hosts file holding the block. */
  readonly hostsFile?: string
  /** A name the system should resolve now (for the readiness probe), with its expected address. */
  readonly probe?: { readonly name: string; readonly address: string | undefined }
}

/** What the DNS layer works with. */
export interface DnsLayerInput {
  readonly change: ChangeContext
  readonly kube: Kube
  readonly session: string
  readonly device: string
  readonly routeTable: RouteTable
  readonly socks: { readonly host: string; readonly port: number }
  readonly network: ClusterNetwork
  readonly dns: ResolvedDnsOptions
  /** Namespaces for short names, `--namespace` first. */
  readonly namespaces: readonly string[]
  /** Routed ranges: PTR lookups of these go to the cluster. */
  readonly routes: readonly Cidr[]
  readonly signal: AbortSignal
}

/** Sets up the chosen DNS mode. */
export async function startDnsLayer(input: DnsLayerInput): Promise<DnsLayer> {
  switch (input.dns.mode) {
    case 'none':
      return { mode: 'none' }
    case 'hosts':
      return startHostsMode(input)
    case 'localDNS':
      return startLocalDns(input)
  }
}

async function startLocalDns(input: DnsLayerInput): Promise<DnsLayer> {
  const { change, network, dns, signal } = input
  const log = change.logger
  const dnsIP = network.dnsServiceIP
  if (dnsIP === undefined) {
    throw new TunnelError(
      'KTX_DNS_PROBE_FAILED',
      'The cluster DNS Service (kube-system/kube-dns) was not found',
      {
        suggestions: ['Use --dnsMode hosts, or --dnsMode none and reach Services by IP.'],
      },
    )
  }
  const domain = dns.clusterDomain
  const routingNamespaces = [...new Set([...input.namespaces, ...(network.namespaces ?? [])])]
  const plan = await openSystemResolver(change.host).plan(
    {
      session: input.session,
      device: input.device,
      searchDomains: searchDomains({ clusterDomain: domain, searchNamespaces: input.namespaces }),
      routingDomains: [domain, 'svc', ...routingNamespaces],
      listenHost: dns.listenHost,
    },
    signal,
  )
  if (plan.tunAddress) {
    const address = input.routeTable.addAddress(input.device, plan.tunAddress)
    await applyChange(change, address.description, address.undo, () => address.apply(signal))
  }

  const cluster = createStreamTransport({
    connect: (s) =>
      socks5Connect({
        proxyHost: input.socks.host,
        proxyPort: input.socks.port,
        host: dnsIP,
        port: 53,
        signal: s,
      }),
    logger: log,
  })
  change.stack.defer('close cluster DNS stream', () => cluster.close())
  let upstream: DnsTransport | undefined
  if (plan.upstream.length > 0) {
    const exchange = createUdpTransport({ servers: plan.upstream, logger: log })
    change.stack.defer('close upstream DNS socket', () => exchange.close())
    upstream = exchange
  } else {
    log.warn('No original DNS server found; only cluster names will resolve')
  }
  const server = await startDnsServer({
    host: plan.listen.host,
    port: plan.listen.port,
    logger: log,
    handle: createForwarder({
      config: () => ({
        clusterDomain: domain,
        searchNamespaces: input.namespaces,
        namespaces: network.namespaces,
        reverseRanges: input.routes,
      }),
      cluster,
      upstream,
      logger: log,
    }),
  })
  change.stack.defer('stop DNS server', () => server.close())
  for (const systemChange of plan.changes({ host: server.host, port: server.port })) {
    await applyChange(change, systemChange.description, systemChange.undo, () => systemChange.apply(signal))
  }
  log.debug('Local DNS ready', {
    listen: `${server.host}:${server.port}`,
    resolver: plan.kind,
    upstream: plan.upstream.map((u) => u.host),
  })
  return {
    mode: 'localDNS',
    address: `${server.host}:${server.port}`,
    resolver: plan.kind,
    probe: { name: `kubernetes.default.svc.${domain}`, address: network.kubernetesServiceIP },
  }
}

async function startHostsMode(input: DnsLayerInput): Promise<DnsLayer> {
  const { change, kube, dns, signal } = input
  const path = dns.hostsFile ?? defaultHostsPath(change.host.platform)
  const options = {
    shortNameNamespace: input.namespaces[0] ?? kube.namespace,
    clusterDomain: dns.clusterDomain,
  }
  const entries = hostsEntries(await listServiceAddresses(kube, input.namespaces, signal), options)
  const block = addHostsBlock(change.host, path, input.session, entries)
  await applyChange(change, block.description, block.undo, () => block.apply())

  // Updates are serialised, and the block's removal waits for the last one.
  let updates: Promise<void> = Promise.resolve()
  const watch = watchServiceAddresses(kube, input.namespaces, {
    logger: change.logger,
    signal,
    onChange: (services) => {
      updates = updates
        .then(() => updateHostsBlock(change.host, path, input.session, hostsEntries(services, options)))
        .catch((error: unknown) => {
          change.logger.warn('Could not update the hosts block', { error: messageOf(error) })
        })
    },
  })
  change.stack.defer('stop watching Services', async () => {
    watch.close()
    await updates
  })
  // The system reads only its own hosts file; a custom one (tests, tools) cannot be probed.
  const first = dns.hostsFile === undefined ? entries[0] : undefined
  return {
    mode: 'hosts',
    hostsFile: path,
    ...(first ? { probe: { name: first.names.at(-1) ?? '', address: first.ip } } : {}),
  }
}
