import { Flags } from '@oclif/core'
import { type ConnectOptions, type DnsMode, parsePort } from '@ktx/core'

/** Flags every command shares (ktctl's names). */
export const kubeFlags = {
  kubeconfig: Flags.string({ char: 'c', description: 'Path of the kubeconfig file.', env: 'KTX_KUBECONFIG' }),
  context: Flags.string({
    description: "Kubeconfig context to use (default: the kubeconfig's current one).",
  }),
  namespace: Flags.string({
    char: 'n',
    description: "Namespace for ktx's objects (default: the context's namespace, then default).",
    env: 'KTX_NAMESPACE',
  }),
  image: Flags.string({ char: 'i', description: 'Image of the shadow pod agent.', env: 'KTX_IMAGE' }),
  podCreationTimeout: Flags.integer({
    description: 'Seconds to wait for the shadow pod to become Ready.',
    aliases: ['pod-creation-timeout'],
    min: 1,
  }),
  debug: Flags.boolean({ char: 'd', description: 'Print debug output.', default: false }),
}

/** Flags of `ktx connect`. */
export const connectFlags = {
  mode: Flags.string({
    description:
      'How to connect: tun (root; a TUN device, routes and local DNS, so every program reaches the cluster) or socks (no root; SOCKS5 + HTTP proxy).',
    options: ['tun', 'socks'],
    default: 'tun',
  }),
  tunName: Flags.string({
    description: 'Name of the TUN device (tun mode). Default ktx0.',
    aliases: ['tun-name'],
  }),
  tun2socks: Flags.string({
    description: 'Path of the tun2socks binary (tun mode). Default: PATH, then ~/.ktx/bin.',
    env: 'KTX_TUN2SOCKS',
  }),
  includeIps: Flags.string({
    description: 'Extra ranges to route through the tunnel, comma-separated CIDRs or IPs (tun mode).',
    aliases: ['include-ips'],
    multiple: true,
  }),
  excludeIps: Flags.string({
    description: 'Ranges to keep out of the tunnel, comma-separated CIDRs or single IPs (tun mode).',
    aliases: ['exclude-ips'],
    multiple: true,
  }),
  dnsMode: Flags.string({
    description:
      'How cluster names resolve (tun mode): localDNS (a local DNS server), hosts (a hosts-file block), none.',
    aliases: ['dns-mode'],
    options: ['localDNS', 'hosts', 'none'],
    default: 'localDNS',
  }),
  dnsNamespaces: Flags.string({
    description: 'More namespaces whose Services resolve by short name, comma-separated (tun mode).',
    aliases: ['dns-namespaces'],
    multiple: true,
  }),
  clusterDomain: Flags.string({
    description: 'The cluster DNS domain (tun mode). Default cluster.local.',
    aliases: ['cluster-domain'],
  }),
  dryRun: Flags.boolean({
    description: 'Print the route plan and change nothing (tun mode).',
    aliases: ['dry-run'],
    default: false,
  }),
  socksPort: Flags.string({
    description: 'Local SOCKS5 port (0: any free port).',
    aliases: ['socks-port'],
    default: '0',
    env: 'KTX_SOCKS_PORT',
  }),
  httpPort: Flags.string({
    description: 'Local HTTP proxy port (0: any free port).',
    aliases: ['http-port'],
    default: '0',
    env: 'KTX_HTTP_PORT',
  }),
}

/** Parsed flag values of `ktx connect`. */
export interface ConnectFlagValues {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
  readonly namespace?: string | undefined
  readonly image?: string | undefined
  readonly podCreationTimeout?: number | undefined
  readonly mode: string
  readonly socksPort: string
  readonly httpPort: string
  readonly tunName?: string | undefined
  readonly tun2socks?: string | undefined
  readonly includeIps?: readonly string[] | undefined
  readonly excludeIps?: readonly string[] | undefined
  readonly dnsMode?: string | undefined
  readonly dnsNamespaces?: readonly string[] | undefined
  readonly clusterDomain?: string | undefined
}

/**
 * Maps parsed flags to {@link ConnectOptions} (pure). Unset flags stay unset so core's defaults
 * (and the context's namespace) apply.
 * @throws UsageError for a bad port.
 */
export function toConnectOptions(flags: ConnectFlagValues): ConnectOptions {
  const kube = {
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
  }
  const tun =
    flags.mode === 'tun'
      ? {
          tun: {
            ...(flags.tunName === undefined ? {} : { device: flags.tunName }),
            ...(flags.tun2socks === undefined ? {} : { tun2socks: flags.tun2socks }),
            ...(flags.includeIps === undefined ? {} : { includeIps: flags.includeIps }),
            ...(flags.excludeIps === undefined ? {} : { excludeIps: flags.excludeIps }),
          },
          dns: {
            ...(flags.dnsMode === undefined ? {} : { mode: flags.dnsMode as DnsMode }),
            ...(flags.dnsNamespaces === undefined ? {} : { namespaces: flags.dnsNamespaces }),
            ...(flags.clusterDomain === undefined ? {} : { clusterDomain: flags.clusterDomain }),
          },
        }
      : {}
  return {
    mode: flags.mode as 'socks' | 'tun',
    ...tun,
    kube,
    ...(flags.image === undefined ? {} : { image: flags.image }),
    socks: { port: parsePort('--socksPort', flags.socksPort) },
    http: { port: parsePort('--httpPort', flags.httpPort) },
    ...(flags.podCreationTimeout === undefined
      ? {}
      : { timeouts: { podReadyMs: flags.podCreationTimeout * 1000 } }),
  }
}
