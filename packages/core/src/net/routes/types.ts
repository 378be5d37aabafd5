/** What each OS's route table (`linux.ts`, `darwin.ts`, `windows.ts`) offers; `index.ts` picks one. */
import type { HostChange } from '../../host/change.js'
import type { Cidr } from '../cidr.js'
import type { ExistingRoute } from '../route-plan.js'

/** An address of this machine and the subnet it sits in. */
export interface LocalAddress {
  readonly device: string
  /** The address itself, as a /32 (/128). */
  readonly address: Cidr
  /** Its on-link subnet (e.g. 192.168.1.0/24). */
  readonly subnet: Cidr
}

/** State of a network link. */
export interface LinkState {
  readonly exists: boolean
  /** Administratively up. */
  readonly up: boolean
  /** Has carrier: for a TUN device, some process holds it open (tun2socks attached). */
  readonly carrier: boolean
}

/** The routing table and links, per platform. */
export interface RouteTable {
  readonly platform: 'linux' | 'darwin' | 'windows'
  /** Routes of the main table (IPv4 and IPv6). */
  listRoutes(signal?: AbortSignal): Promise<ExistingRoute[]>
  /** This machine's own addresses and subnets (never routed into the tunnel). */
  localAddresses(signal?: AbortSignal): Promise<LocalAddress[]>
  link(device: string, signal?: AbortSignal): Promise<LinkState>
  /**
   * Creates the TUN device before tun2socks opens it, when the platform allows (Linux: a
   * persistent tuntap, so ktx owns its lifetime and knows its name is free). Undefined where
   * tun2socks must create the device itself.
   */
  createTun?(device: string): HostChange
  /** Brings the link up (undone by deleting the device). */
  setUp(device: string, signal?: AbortSignal): Promise<void>
  /** Adds a route through `device`; fails (never replaces) when the route exists. */
  addRoute(destination: Cidr, device: string): HostChange
  /** Puts an address on the device (for a resolver that must reach a server on that link). */
  addAddress(device: string, address: Cidr): HostChange
}
