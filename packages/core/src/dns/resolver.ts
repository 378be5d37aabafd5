/**
 * Who answers which name: a pure function from a query name to an ordered list of lookups.
 * Cluster-shaped names go through the tunnel; everything else goes to the machine's original
 * upstream only, so public lookups are never slowed by the cluster (ktctl asked the cluster first
 * for every name: ktconnect.md §3.9, #289).
 *
 * | query                         | lookups, in order                                            |
 * |-------------------------------|--------------------------------------------------------------|
 * | `x.<domain>` (cluster domain) | cluster                                                      |
 * | `a.b.svc`, `a.b.c.svc`        | cluster `…svc.<domain>`                                      |
 * | `svc` (one label)             | cluster `svc.<ns>.svc.<domain>` per search namespace, upstream |
 * | `svc.ns`, ns a known namespace| cluster `svc.ns.svc.<domain>`, then upstream                 |
 * | other two-label names         | upstream, then cluster `x.y.svc.<domain>` (only on NXDOMAIN) |
 * | PTR of an IP in a routed range| cluster                                                      |
 * | anything else                 | upstream                                                     |
 *
 * The next lookup is tried only when one says NXDOMAIN or fails; NOERROR without records (the
 * name exists, not that type) is an answer.
 */
import { type Cidr, contains, parseAddress } from '../net/cidr.js'

/** What the resolver needs to know about the cluster. */
export interface ResolverConfig {
  /** Default `cluster.local`. */
  readonly clusterDomain: string
  /** Namespaces whose Services resolve by short name, in order (`--namespace` first). */
  readonly searchNamespaces: readonly string[]
  /** Every namespace in the cluster, when ktx may list them; undefined when unknown. */
  readonly namespaces?: ReadonlySet<string> | undefined
  /** Reverse (PTR) lookups of addresses in these ranges go to the cluster. */
  readonly reverseRanges?: readonly Cidr[]
}

/** Where one lookup goes. */
export type LookupTarget = 'cluster' | 'upstream'

/** One lookup: ask `target` for `name`. */
export interface LookupStep {
  readonly target: LookupTarget
  readonly name: string
}

/** The ordered lookups for `queryName` (any case, trailing dot allowed). */
export function planLookup(queryName: string, config: ResolverConfig): LookupStep[] {
  const name = queryName.toLowerCase().replace(/\.$/, '')
  const domain = config.clusterDomain.toLowerCase().replace(/\.$/, '')
  const cluster = (n: string): LookupStep => ({ target: 'cluster', name: n })
  const upstream: LookupStep = { target: 'upstream', name }
  if (name === '') return [upstream]
  if (name === domain || name.endsWith(`.${domain}`)) return [cluster(name)]

  const reverse = reverseAddress(name)
  if (reverse) {
    return config.reverseRanges?.some((range) => contains(range, reverse)) ? [cluster(name)] : [upstream]
  }

  const labels = name.split('.')
  if (labels.length === 1) {
    return [...config.searchNamespaces.map((ns) => cluster(`${name}.${ns}.svc.${domain}`)), upstream]
  }
  if (labels.at(-1) === 'svc' && labels.length >= 3) return [cluster(`${name}.${domain}`)]
  if (labels.length === 2) {
    const [, namespace = ''] = labels
    const inCluster = cluster(`${name}.svc.${domain}`)
    // A known namespace asks the cluster first; anything else (a public name, or a namespace
    // created after the list was read) asks the upstream first and the cluster only on NXDOMAIN.
    const known = config.namespaces?.has(namespace) === true || config.searchNamespaces.includes(namespace)
    return known ? [inCluster, upstream] : [upstream, inCluster]
  }
  return [upstream]
}

/** The search domains to configure for the system resolver: `<ns>.svc.<domain>`, `svc.<domain>`, `<domain>`. */
export function searchDomains(config: Pick<ResolverConfig, 'clusterDomain' | 'searchNamespaces'>): string[] {
  const domain = config.clusterDomain.replace(/\.$/, '')
  return [...config.searchNamespaces.map((ns) => `${ns}.svc.${domain}`), `svc.${domain}`, domain]
}

// `4.3.2.1.in-addr.arpa` → 1.2.3.4/32; `…ip6.arpa` nibbles → /128. Partial names are not addresses.
function reverseAddress(name: string): Cidr | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.')
    if (parts.length !== 4) return undefined
    const parsed = parseAddress(parts.reverse().join('.'))
    return parsed ? { family: 4, base: parsed.value, prefix: 32 } : undefined
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.')
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined
    return { family: 6, base: BigInt(`0x${nibbles.reverse().join('')}`), prefix: 128 }
  }
  return undefined
}
