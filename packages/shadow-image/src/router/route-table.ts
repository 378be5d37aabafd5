import type { RouterErrorCode, RouterRoute } from '@ktx/core/contract'

/** Whoever keeps a route alive: one control connection. Compared by identity. */
export type RouteOwner = object

/** The outcome of {@link RouteTable.add}. */
export type AddOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly code: Exclude<RouterErrorCode, 'bad-request'>
      readonly message: string
      readonly session?: string
    }

/** Reads a request header by its lower-case name: one value, several (repeated header) or none. */
export type HeaderReader = (lowerCaseName: string) => string | readonly string[] | undefined

interface Entry {
  readonly route: RouterRoute
  readonly owner: RouteOwner
}

/**
 * The router's routes, keyed by mark (header name, case-insensitive, and exact value). One session
 * per mark: another session's `add` of a held mark is refused naming the holder. Every lookup sees
 * the table as it is now, so routes change at run time without touching open connections (the next
 * request or stream on them is routed by the new table).
 */
export class RouteTable {
  readonly #ports: ReadonlySet<number>
  readonly #byMark = new Map<string, Entry>()
  /** Lower-case header names some route uses, with how many routes use each. */
  readonly #headers = new Map<string, number>()

  /** `ports`: the router's ports; a route may only target these. */
  constructor(ports: Iterable<number>) {
    this.#ports = new Set(ports)
  }

  /** Takes (or retakes) a mark for `route.session`; the route then lives as long as `owner`. */
  add(owner: RouteOwner, route: RouterRoute): AddOutcome {
    const unknown = Object.keys(route.targets).find((port) => !this.#ports.has(Number(port)))
    if (unknown !== undefined)
      return {
        ok: false,
        code: 'unknown-port',
        message: `the router does not listen on port ${unknown} (it routes ${[...this.#ports].join(', ')})`,
      }
    const key = markKey(route.header, route.value)
    const held = this.#byMark.get(key)
    if (held && held.route.session !== route.session)
      return {
        ok: false,
        code: 'mark-taken',
        message: `${route.header}: ${route.value} is already routed to session ${held.route.session}`,
        session: held.route.session,
      }
    if (!held) this.#countHeader(route.header.toLowerCase(), 1)
    this.#byMark.set(key, { route: { ...route, targets: { ...route.targets } }, owner })
    return { ok: true }
  }

  /** Drops every route of `session`; returns how many. */
  removeSession(session: string): number {
    return this.#removeWhere((entry) => entry.route.session === session)
  }

  /** Drops every route `owner` keeps alive (its control connection closed); returns how many. */
  removeOwner(owner: RouteOwner): number {
    return this.#removeWhere((entry) => entry.owner === owner)
  }

  /** The routes, oldest mark first. */
  list(): RouterRoute[] {
    return [...this.#byMark.values()].map((entry) => entry.route)
  }

  /**
   * Where a request or stream that arrived on router port `port` goes: the `host:port` of the
   * route whose mark it carries, or `undefined` (the fallback) when it carries none, or the route
   * has no target on this port.
   */
  match(port: number, header: HeaderReader): string | undefined {
    if (this.#byMark.size === 0) return undefined
    for (const name of this.#headers.keys()) {
      const values = header(name)
      if (values === undefined) continue
      for (const value of typeof values === 'string' ? [values] : values) {
        const target = this.#byMark.get(markKey(name, value))?.route.targets[String(port)]
        if (target !== undefined) return target
      }
    }
    return undefined
  }

  #removeWhere(predicate: (entry: Entry) => boolean): number {
    let removed = 0
    for (const [key, entry] of this.#byMark) {
      if (!predicate(entry)) continue
      this.#byMark.delete(key)
      this.#countHeader(entry.route.header.toLowerCase(), -1)
      removed++
    }
    return removed
  }

  #countHeader(name: string, delta: number): void {
    const count = (this.#headers.get(name) ?? 0) + delta
    if (count > 0) this.#headers.set(name, count)
    else this.#headers.delete(name)
  }
}

function markKey(header: string, value: string): string {
  // A newline cannot occur in a header name or a valid value, so the key is unambiguous.
  return `${header.toLowerCase()}\n${value}`
}
