import { Flags } from '@oclif/core'
import {
  type ConnectOptions,
  DATA_PATHS,
  type DataPath,
  type DnsMode,
  type DnsOptions,
  type TunOptions,
  parsePort,
} from '@ktx/core'

import { debugFlag, kubeFlags, leaseDurationFlag, shadowPodFlags, toBaseOptions } from '../kube-flags.js'
import { oneOf } from './one-of.js'
import { type FlagValues, type Renames, renamed } from './values.js'

/** Flags of `ktx connect` (ktctl's names, with kebab-case aliases). */
export const connectFlags = {
  ...kubeFlags,
  ...shadowPodFlags,
  ...leaseDurationFlag,
  ...debugFlag,
  mode: oneOf<NonNullable<ConnectOptions['mode']>>(['tun', 'socks'], {
    description:
      'How to connect: tun (root; a TUN device, routes and local DNS, so every program reaches the cluster) or socks (no root; SOCKS5 + HTTP proxy).',
    default: 'tun',
  }),
  tunName: Flags.string({
    description: 'Name of the TUN device (tun mode). Default ktx0.',
    aliases: ['tun-name'],
  }),
  tun2socks: Flags.string({
    description:
      'Path of the tun2socks binary (tun mode), used as given. Default: PATH, then ~/.ktx/bin (as root /var/lib/ktx/bin), each only if root-owned and not group/other-writable.',
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
  dnsMode: oneOf<DnsMode>(['localDNS', 'hosts', 'none'], {
    description:
      'How cluster names resolve (tun mode): localDNS (a local DNS server), hosts (a hosts-file block), none.',
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
  proxyAuth: Flags.boolean({
    description:
      'Socks mode: the SOCKS5 and HTTP proxies require a fresh username and password (printed in the export lines), so other users of this machine cannot use your cluster identity through them.',
    aliases: ['proxy-auth'],
    default: false,
    env: 'KTX_PROXY_AUTH',
  }),
  dataPath: Flags.option({
    options: DATA_PATHS,
    description:
      'direct: one port-forward per connection, each signed with the session key (about half the CPU per byte); ssh: every connection a channel of one SSH connection.',
    aliases: ['data-path'],
    default: 'direct' as DataPath,
    env: 'KTX_DATA_PATH',
  })(),
  httpPort: Flags.string({
    description: 'Local HTTP proxy port (0: any free port).',
    aliases: ['http-port'],
    default: '0',
    env: 'KTX_HTTP_PORT',
  }),
}

type Parsed = Omit<FlagValues<typeof connectFlags>, 'debug' | 'dryRun' | 'proxyAuth'> & {
  readonly proxyAuth?: boolean
}

const TUN_OPTION_OF = {
  tunName: 'device',
  tun2socks: 'tun2socks',
  includeIps: 'includeIps',
  excludeIps: 'excludeIps',
} as const satisfies Renames<Parsed, TunOptions>

const DNS_OPTION_OF = {
  dnsMode: 'mode',
  dnsNamespaces: 'namespaces',
  clusterDomain: 'clusterDomain',
} as const satisfies Renames<Parsed, DnsOptions>

type TunOnly = keyof typeof TUN_OPTION_OF | keyof typeof DNS_OPTION_OF

/** Parsed flag values of `ktx connect`; the tun-mode flags count only there, so they may be absent. */
export type ConnectFlagValues = Omit<Parsed, TunOnly> & Partial<Pick<Parsed, TunOnly>>

/**
 * Maps parsed flags to {@link ConnectOptions} (pure). Unset flags stay unset so core's defaults
 * (and the context's namespace) apply; the TUN and DNS flags count only in tun mode.
 * @throws UsageError for a bad port.
 */
export function toConnectOptions(flags: ConnectFlagValues): ConnectOptions {
  return {
    ...toBaseOptions(flags),
    mode: flags.mode,
    ...(flags.mode === 'tun'
      ? { tun: renamed(flags, TUN_OPTION_OF), dns: renamed(flags, DNS_OPTION_OF) }
      : {}),
    socks: { port: parsePort('--socksPort', flags.socksPort) },
    http: { port: parsePort('--httpPort', flags.httpPort) },
    ...(flags.proxyAuth === true ? { proxyAuth: true } : {}),
    dataPath: flags.dataPath,
  }
}
