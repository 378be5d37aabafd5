/**
 * Which IP ranges go into the TUN device: a pure function of what the cluster told us, what the
 * user asked for and what this machine already has. Unlike ktctl (ktconnect.md §3.8, §5.1):
 * - ranges come from authoritative sources (ServiceCIDR API, node podCIDRs), not octet guesses;
 * - the API server, node addresses, hostNetwork pod IPs and this machine's own subnets are never
 *   routed; they are carved out exactly, however small;
 * - `--excludeIps` punches real holes (a single IP works), `--includeIps` adds ranges;
 * - a planned route that overlaps an existing route is a reported conflict, not taken silently.
 */
import { type Cidr, contains, formatCidr, merge, overlaps, subtract } from './cidr.js'

/** Where a range came from, for the dry-run and logs. */
export type CidrSource =
  'service-cidr-api' | 'apiserver-dry-run' | 'service-sample' | 'node-pod-cidrs' | 'pod-sample' | 'include'

/** A range with its provenance. */
export interface SourcedCidr {
  readonly cidr: Cidr
  readonly source: CidrSource
}

/** Why a range is kept out of the tunnel. */
export type ExcludeReason = 'exclude' | 'api-server' | 'node' | 'host-network-pod' | 'local-subnet'

/** A range that must not be routed, with the reason. */
export interface ExcludedCidr {
  readonly cidr: Cidr
  readonly reason: ExcludeReason
}

/** A route already on this machine. */
export interface ExistingRoute {
  readonly destination: Cidr
  readonly device: string
  readonly gateway?: string
}

/** A planned route that would take traffic from (or lose it to) an existing route. */
export interface RouteConflict {
  readonly route: Cidr
  readonly existing: ExistingRoute
  /** True unless the user asked for the overlapping range with `--includeIps`. */
  readonly blocking: boolean
}

/** Inputs of {@link planRoutes}. */
export interface RoutePlanInput {
  /** Service ranges (ServiceCIDR API or the API server's dry-run answer). */
  readonly services: readonly SourcedCidr[]
  /** Pod ranges (node podCIDRs, or a sample of pod IPs as the last resort). */
  readonly pods: readonly SourcedCidr[]
  /** `--includeIps`. */
  readonly include: readonly Cidr[]
  /** `--excludeIps`. */
  readonly exclude: readonly Cidr[]
  /** Ranges that are never routed: API server, nodes, hostNetwork pods, local subnets. */
  readonly never: readonly ExcludedCidr[]
  /** The machine's current routes, to detect conflicts. */
  readonly existing: readonly ExistingRoute[]
  /** The TUN device the routes will use; routes already on it are not conflicts. */
  readonly device: string
}

/** The result of {@link planRoutes}. */
export interface RoutePlan {
  /** Routes to add through the TUN device: merged, sorted, holes carved. */
  readonly routes: readonly Cidr[]
  /** What the routes were built from. */
  readonly sources: readonly SourcedCidr[]
  /** Exclusions that actually cut into a wanted range (ones outside every range are left out). */
  readonly excluded: readonly ExcludedCidr[]
  readonly conflicts: readonly RouteConflict[]
}

/**
 * Plans the routes. Pure and deterministic: the same input always gives the same plan.
 * Order of precedence: never-routed ranges beat `--includeIps`, which (with the discovered
 * ranges) beat nothing; `--excludeIps` always wins.
 */
export function planRoutes(input: RoutePlanInput): RoutePlan {
  const sources: SourcedCidr[] = [
    ...input.services,
    ...input.pods,
    ...input.include.map((cidr) => ({ cidr, source: 'include' as const })),
  ]
  const wanted = merge(sources.map((s) => s.cidr))
  const holes: ExcludedCidr[] = [
    ...input.exclude.map((cidr) => ({ cidr, reason: 'exclude' as const })),
    ...input.never,
  ]
  const routes = subtract(
    wanted,
    holes.map((h) => h.cidr),
  )
  const seen = new Set<string>()
  const excluded = holes.filter((hole) => {
    const key = `${formatCidr(hole.cidr)} ${hole.reason}`
    if (seen.has(key) || !wanted.some((w) => overlaps(w, hole.cidr))) return false
    seen.add(key)
    return true
  })
  const conflicts: RouteConflict[] = []
  for (const route of routes) {
    for (const existing of input.existing) {
      if (existing.device === input.device || existing.destination.prefix === 0) continue
      if (!overlaps(route, existing.destination)) continue
      const blocking = !input.include.some(
        (inc) => contains(inc, route) || contains(inc, existing.destination),
      )
      conflicts.push({ route, existing, blocking })
    }
  }
  return { routes, sources, excluded, conflicts }
}

/**
 * The last-resort guess at pod ranges from a sample of (non-hostNetwork) pod IPs: the /16
 * (IPv4) or /64 (IPv6) around each one. Never-routed ranges are carved out later, so a wide
 * guess cannot swallow a node or this machine's own subnet.
 */
export function cidrsFromSample(ips: readonly Cidr[]): Cidr[] {
  return merge(
    ips.map((ip) => {
      const prefix = ip.family === 4 ? 16 : 64
      const bits = ip.family === 4 ? 32 : 128
      const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n)
      return { family: ip.family, base: ip.base & mask, prefix }
    }),
  )
}
