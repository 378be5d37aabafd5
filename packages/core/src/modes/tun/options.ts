/**
 * Options of `connect({ mode: 'tun' })`: the TUN device and its routes, and how names resolve.
 * Resolution is pure and throws {@link UsageError} naming the option, like `options.ts`.
 */
import { UsageError } from '../../errors.js'
import type { Host } from '../../host/host.js'
import { type Cidr, parseCidrList } from '../../net/cidr.js'

/** How cluster names resolve in TUN mode. */
export type DnsMode = 'localDNS' | 'hosts' | 'none'

/** The TUN device and its routes. */
export interface TunOptions {
  /** Device name (`--tunName`). Default `ktx0` on Linux, `utun<N>` on macOS, `ktx` on Windows. */
  readonly device?: string
  /** Path of the tun2socks binary (`--tun2socks`, `KTX_TUN2SOCKS`). Default: PATH, then `~/.ktx/bin`. */
  readonly tun2socks?: string
  /** Extra ranges to route (`--includeIps`): CIDRs or single IPs. */
  readonly includeIps?: readonly string[]
  /** Ranges to keep out of the tunnel (`--excludeIps`): CIDRs or single IPs; real holes. */
  readonly excludeIps?: readonly string[]
}

/** Name resolution in TUN mode. */
export interface DnsOptions {
  /** `localDNS` (default): a local DNS server; `hosts`: a hosts-file block; `none`. */
  readonly mode?: DnsMode
  /** Namespaces whose Services resolve by short name, in order. Default: the session's namespace. */
  readonly namespaces?: readonly string[]
  /** Default `cluster.local`. */
  readonly clusterDomain?: string
  /** Where the local DNS server listens, where the OS lets ktx choose (Linux: `127.0.0.153`). */
  readonly listenHost?: string
  /** The hosts file for `hosts` mode. Default: the OS's. */
  readonly hostsFile?: string
}

/** {@link TunOptions} resolved. */
export interface ResolvedTunOptions {
  readonly device: string | undefined
  readonly tun2socks: string | undefined
  readonly include: readonly Cidr[]
  readonly exclude: readonly Cidr[]
}

/** {@link DnsOptions} resolved. */
export interface ResolvedDnsOptions {
  readonly mode: DnsMode
  /** Empty means "the session's namespace". */
  readonly namespaces: readonly string[]
  readonly clusterDomain: string
  readonly listenHost: string | undefined
  readonly hostsFile: string | undefined
}

/** Defaults of TUN mode. */
export const TUN_DEFAULTS: {
  readonly linuxDevice: string
  readonly windowsDevice: string
  readonly clusterDomain: string
  readonly dnsMode: DnsMode
} = Object.freeze({
  linuxDevice: 'ktx0',
  windowsDevice: 'ktx',
  clusterDomain: 'cluster.local',
  dnsMode: 'localDNS',
})

const DNS_MODES: readonly DnsMode[] = ['localDNS', 'hosts', 'none']
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** @throws UsageError for a bad device name or CIDR. */
export function resolveTunOptions(options: TunOptions = {}): ResolvedTunOptions {
  const device = options.device?.trim()
  if (device !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(device)) {
    throw new UsageError(`--tunName "${options.device ?? ''}" is not a valid device name`, {
      suggestions: ['Use up to 15 letters, digits, ".", "_" or "-", e.g. ktx0.'],
    })
  }
  return Object.freeze({
    device: device === '' ? undefined : device,
    tun2socks: options.tun2socks === '' ? undefined : options.tun2socks,
    include: parseCidrList(options.includeIps ?? [], '--includeIps'),
    exclude: parseCidrList(options.excludeIps ?? [], '--excludeIps'),
  })
}

/** @throws UsageError for an unknown mode, a bad namespace or domain. */
export function resolveDnsOptions(options: DnsOptions = {}): ResolvedDnsOptions {
  const mode = options.mode ?? TUN_DEFAULTS.dnsMode
  if (!DNS_MODES.includes(mode)) {
    throw new UsageError(`--dnsMode "${mode}" is not one of ${DNS_MODES.join(', ')}`)
  }
  const namespaces = (options.namespaces ?? [])
    .flatMap((n) => n.split(','))
    .map((n) => n.trim())
    .filter(Boolean)
  for (const ns of namespaces) {
    if (!LABEL.test(ns) || ns.length > 63) {
      throw new UsageError(`--dnsNamespaces: "${ns}" is not a namespace name`)
    }
  }
  const clusterDomain = (options.clusterDomain ?? TUN_DEFAULTS.clusterDomain).replace(/\.$/, '').toLowerCase()
  if (!clusterDomain.split('.').every((label) => LABEL.test(label))) {
    throw new UsageError(`--clusterDomain "${options.clusterDomain ?? ''}" is not a domain name`)
  }
  return Object.freeze({
    mode,
    namespaces: [...new Set(namespaces)],
    clusterDomain,
    listenHost: options.listenHost,
    hostsFile: options.hostsFile,
  })
}

/** The default TUN device name on a platform (macOS: the first free `utun` number is found later). */
export function defaultDeviceName(platform: Host['platform']): string {
  return platform === 'win32' ? TUN_DEFAULTS.windowsDevice : TUN_DEFAULTS.linuxDevice
}
