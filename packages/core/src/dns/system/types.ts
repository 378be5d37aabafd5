/** What each OS's resolver setup (`linux.ts`, `darwin.ts`, `windows.ts`) offers; `index.ts` picks one. */
import type { HostChange } from '../../host/change.js'
import type { Cidr } from '../../net/cidr.js'
import type { ServerAddress } from '../transport.js'

/** What the resolver setup needs to know. */
export interface ResolverSetupOptions {
  readonly session: string
  /** The TUN device (systemd-resolved attaches the settings to it). */
  readonly device: string
  /** Search domains, e.g. `team-a.svc.cluster.local svc.cluster.local cluster.local`. */
  readonly searchDomains: readonly string[]
  /** Domains whose names must reach ktx: the cluster domain, `svc`, the namespaces. */
  readonly routingDomains: readonly string[]
  /** Overrides the address ktx's DNS server listens on (where the OS allows a choice). */
  readonly listenHost?: string | undefined
}

/** How the system will be pointed at ktx's DNS server. */
export interface SystemResolverPlan {
  readonly kind: 'resolv.conf' | 'systemd-resolved' | 'macos-resolver' | 'windows-nrpt'
  /** The machine's original DNS servers, for names that are not the cluster's. */
  readonly upstream: readonly ServerAddress[]
  /** Where ktx's DNS server must listen (port 0: any; the bound port goes to {@link changes}). */
  readonly listen: { readonly host: string; readonly port: number }
  /** An address to put on the TUN device before the server starts (systemd-resolved only). */
  readonly tunAddress?: Cidr
  /** The changes that point the system at the server bound at `bound`. */
  changes(bound: { readonly host: string; readonly port: number }): HostChange[]
}

/** Plans the resolver setup for this platform. */
export interface SystemResolver {
  /**
   * Reads the current configuration and plans the change.
   * @throws HostError `KTX_DNS_UPSTREAM_UNKNOWN` when the current configuration cannot be read.
   */
  plan(options: ResolverSetupOptions, signal?: AbortSignal): Promise<SystemResolverPlan>
}
