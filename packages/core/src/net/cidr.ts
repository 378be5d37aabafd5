/**
 * IP ranges as values: parse, format, contain, overlap, subtract and merge. Pure; IPv4 and IPv6.
 * A bare address is its own /32 (or /128), so `--excludeIps 10.0.0.7` is a real one-address hole.
 */
import { isIPv4, isIPv6 } from 'node:net'

import { UsageError } from '../errors.js'

/** An IP network: `base` has no bits set past `prefix`. */
export interface Cidr {
  readonly family: 4 | 6
  readonly base: bigint
  readonly prefix: number
}

const BITS = { 4: 32, 6: 128 } as const

/** Parses an IPv4/IPv6 address to a number, or undefined when it is not one. */
export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const address = text.trim()
  if (isIPv4(address)) {
    const value = address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
    return { family: 4, value }
  }
  if (isIPv6(address)) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups first.
    const withHex = address.replace(/(\d+\.\d+\.\d+\.\d+)$/, (v4) => {
      const n = Number(parseAddress(v4)?.value ?? 0n)
      return `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`
    })
    const [head = '', rest] = withHex.split('::')
    const left = head === '' ? [] : head.split(':')
    const right = rest === undefined || rest === '' ? [] : rest.split(':')
    const groups =
      rest === undefined
        ? left
        : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
    return { family: 6, value }
  }
  return undefined
}

/** Formats an address number of `family`. IPv6 in the RFC 5952 short form. */
export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.')
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn))
  // The longest run (≥ 2) of zero groups becomes `::`.
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i += 1
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j += 1
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

/** The network of `prefix` bits containing `value`. */
export function cidrOf(family: 4 | 6, value: bigint, prefix: number): Cidr {
  return { family, base: value & mask(family, prefix), prefix }
}

/** Like {@link parseCidr}, but returns undefined instead of throwing. Host bits are cleared. */
export function tryParseCidr(text: string): Cidr | undefined {
  const [addressText = '', prefixText, extra] = text.trim().split('/')
  if (extra !== undefined) return undefined
  const address = parseAddress(addressText)
  if (!address) return undefined
  const bits = BITS[address.family]
  if (prefixText === undefined) return { family: address.family, base: address.value, prefix: bits }
  if (!/^\d{1,3}$/.test(prefixText)) return undefined
  const prefix = Number(prefixText)
  if (prefix > bits) return undefined
  return cidrOf(address.family, address.value, prefix)
}

/**
 * Parses `10.0.0.0/8`, `10.1.2.3` (a /32), `fd00::/8` or `fd00::1` (a /128). Host bits are cleared,
 * so `10.1.2.3/24` is `10.1.2.0/24`.
 * @throws UsageError naming `what` (e.g. `--excludeIps`) when the text is not a CIDR or address.
 */
export function parseCidr(text: string, what = 'CIDR'): Cidr {
  const cidr = tryParseCidr(text)
  if (!cidr) {
    throw new UsageError(`${what}: "${text}" is not an IP address or CIDR`, {
      suggestions: ['Use forms like 10.96.0.0/12, 10.244.1.7 or 10.244.1.7/32.'],
    })
  }
  return cidr
}

/** Parses a comma-separated list (empty entries skipped). @throws UsageError */
export function parseCidrList(text: string | readonly string[], what = 'CIDR list'): Cidr[] {
  const parts = typeof text === 'string' ? text.split(',') : text.flatMap((t) => t.split(','))
  return parts.filter((part) => part.trim() !== '').map((part) => parseCidr(part, what))
}

/** `10.0.0.0/8`. */
export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.family, cidr.base)}/${cidr.prefix}`
}

/** The first and last address of the network. */
export function rangeOf(cidr: Cidr): { first: bigint; last: bigint } {
  return { first: cidr.base, last: cidr.base | (~mask(cidr.family, cidr.prefix) & full(cidr.family)) }
}

/** `outer` contains all of `inner` (equal counts). */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    (inner.base & mask(outer.family, outer.prefix)) === outer.base
  )
}

/** The two networks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a)
}

/** Same family, base and prefix. */
export function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base === b.base && a.prefix === b.prefix
}

/**
 * `from` minus every network in `holes`, as the fewest CIDRs: a /24 minus one /32 is 8 networks
 * (/25, /26, … /32). Families do not mix; the result is sorted and merged.
 */
export function subtract(from: readonly Cidr[], holes: readonly Cidr[]): Cidr[] {
  let current = merge(from)
  for (const hole of merge(holes)) {
    const next: Cidr[] = []
    for (const cidr of current) next.push(...subtractOne(cidr, hole))
    current = next
  }
  return merge(current)
}

/**
 * The smallest set of CIDRs covering exactly the union of `cidrs`: contained networks dropped,
 * sibling halves joined into their parent. Sorted by family, then address.
 */
export function merge(cidrs: readonly Cidr[]): Cidr[] {
  const sorted = [...cidrs].sort(compareCidr)
  const out: Cidr[] = []
  for (const cidr of sorted) {
    const last = out[out.length - 1]
    if (last && contains(last, cidr)) continue
    out.push(cidr)
    // Joining two halves may make a parent that joins with the one before it, and so on.
    for (;;) {
      const b = out[out.length - 1]
      const a = out[out.length - 2]
      if (!a || !b || !areSiblings(a, b)) break
      out.splice(out.length - 2, 2, { family: a.family, base: a.base, prefix: a.prefix - 1 })
    }
  }
  return out
}

/** Orders by family, base, then shorter prefix first. */
export function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family
  if (a.base !== b.base) return a.base < b.base ? -1 : 1
  return a.prefix - b.prefix
}

function subtractOne(cidr: Cidr, hole: Cidr): Cidr[] {
  if (!overlaps(cidr, hole)) return [cidr]
  if (contains(hole, cidr)) return []
  // The hole is strictly inside: keep the half without it whole, and split the other half further.
  const out: Cidr[] = []
  let current = cidr
  while (current.prefix < hole.prefix) {
    const prefix = current.prefix + 1
    const low: Cidr = { family: current.family, base: current.base, prefix }
    const high: Cidr = {
      family: current.family,
      base: current.base | (1n << BigInt(BITS[current.family] - prefix)),
      prefix,
    }
    if (contains(low, hole)) {
      out.push(high)
      current = low
    } else {
      out.push(low)
      current = high
    }
  }
  return out
}

function areSiblings(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family || a.prefix !== b.prefix || a.prefix === 0) return false
  const parentMask = mask(a.family, a.prefix - 1)
  return (a.base & parentMask) === (b.base & parentMask) && a.base !== b.base
}

function full(family: 4 | 6): bigint {
  return (1n << BigInt(BITS[family])) - 1n
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family])
  return (full(family) >> (bits - BigInt(prefix))) << (bits - BigInt(prefix))
}
