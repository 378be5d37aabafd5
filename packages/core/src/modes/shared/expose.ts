/**
 * `--expose local:remote[,…]`: which cluster-side ports of a shadow are carried to which local
 * ports. Shared by every verb that brings cluster traffic to this machine.
 */
import { UsageError } from '../../errors.js'

/** One `--expose` pair: connections to `remote` in the cluster reach `local` on this machine. */
export interface PortMapping {
  readonly local: number
  readonly remote: number
}

/**
 * Parses `--expose`: `8080`, `3000:80`, `3000:80,9090` (spaces allowed around commas).
 * @throws UsageError for bad ports or a remote port given twice.
 */
export function parseExpose(value: string): PortMapping[] {
  const parts = value.split(',').map((part) => part.trim())
  if (parts.length === 0 || parts.some((part) => part === '')) {
    throw new UsageError(`--expose "${value}" is empty or has an empty entry`, {
      suggestions: ['Use local:remote pairs separated by commas, e.g. --expose 3000:80,9090'],
    })
  }
  return checkPairs(
    parts.map((part) => {
      const match = /^(\d+)(?::(\d+))?$/.exec(part)
      if (!match) {
        throw new UsageError(`--expose entry "${part}" is not "port" or "local:remote"`, {
          suggestions: ['Use local:remote pairs separated by commas, e.g. --expose 3000:80,9090'],
        })
      }
      const local = Number(match[1])
      return { local, remote: match[2] === undefined ? local : Number(match[2]) }
    }),
  )
}

/** Checks `--expose` pairs given as data (the same rules as {@link parseExpose}). */
export function checkPairs(pairs: readonly PortMapping[]): PortMapping[] {
  if (pairs.length === 0) throw new UsageError('--expose needs at least one port')
  const seen = new Set<number>()
  for (const { local, remote } of pairs) {
    for (const [side, port] of [
      ['local', local],
      ['remote', remote],
    ] as const) {
      if (!Number.isInteger(port) || port < 1 || port > 65_535) {
        throw new UsageError(`--expose ${side} port ${String(port)} is not a port number from 1 to 65535`)
      }
    }
    if (seen.has(remote)) {
      throw new UsageError(`--expose names remote port ${remote} twice`, {
        suggestions: ['Each remote (cluster-side) port can be carried to one local port only.'],
      })
    }
    seen.add(remote)
  }
  return pairs.map(({ local, remote }) => ({ local, remote }))
}
