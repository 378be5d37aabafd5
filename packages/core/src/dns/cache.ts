/**
 * A TTL cache of DNS responses, keyed by question. Entries live for the smallest TTL of their
 * records (negative answers per RFC 2308, capped), and are served with the TTLs counted down.
 */
import { Packet, minTtl } from './wire.js'

/** Options of {@link DnsCache}. */
export interface DnsCacheOptions {
  /** Most entries kept; the oldest go first. Default 10 000. */
  readonly maxEntries?: number
  /** Longest a positive answer is kept, seconds. Default 300. */
  readonly maxTtlSeconds?: number
  /** Longest a negative answer (NXDOMAIN, no records) is kept, seconds. Default 30. */
  readonly maxNegativeTtlSeconds?: number
  /** Clock, for tests. */
  readonly now?: () => number
}

interface Entry {
  readonly bytes: Buffer
  readonly storedAt: number
  readonly expiresAt: number
}

/** Response cache. */
export class DnsCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #maxTtl: number
  readonly #maxNegativeTtl: number
  readonly #now: () => number

  constructor(options: DnsCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#maxTtl = options.maxTtlSeconds ?? 300
    this.#maxNegativeTtl = options.maxNegativeTtlSeconds ?? 30
    this.#now = options.now ?? Date.now
  }

  /** The key of a question. */
  static key(name: string, type: number, cls: number): string {
    return `${name.toLowerCase().replace(/\.$/, '')}|${type}|${cls}`
  }

  get size(): number {
    return this.#entries.size
  }

  /** A copy of the cached response with TTLs reduced by its age, or undefined. */
  get(key: string): Packet | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    const now = this.#now()
    if (now >= entry.expiresAt) {
      this.#entries.delete(key)
      return undefined
    }
    const age = Math.floor((now - entry.storedAt) / 1000)
    const packet = Packet.parse(entry.bytes)
    for (const record of [...packet.answers, ...packet.authorities, ...packet.additionals]) {
      if (record.type !== Packet.TYPE.EDNS) record.ttl = Math.max(0, record.ttl - age)
    }
    return packet
  }

  /** Stores a NOERROR or NXDOMAIN response; others (SERVFAIL, REFUSED) are not cached. */
  set(key: string, response: Packet): void {
    const rcode = response.header.rcode
    if (rcode !== 0 && rcode !== 3) return
    const negative = rcode === 3 || response.answers.length === 0
    const ttl = Math.min(minTtl(response) ?? 5, negative ? this.#maxNegativeTtl : this.#maxTtl)
    if (ttl <= 0) return
    const now = this.#now()
    this.#entries.delete(key)
    this.#entries.set(key, { bytes: response.toBuffer(), storedAt: now, expiresAt: now + ttl * 1000 })
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
  }

  clear(): void {
    this.#entries.clear()
  }
}
