/**
 * Windows: PowerShell's NetTCPIP cmdlets (JSON output) for reads, `netsh` for changes. Routes are
 * added with `store=active`, so unlike ktctl's they never outlive a reboot (ktconnect.md §3.6).
 * tun2socks creates the wintun adapter itself. Designed and unit-tested against recorded output.
 */
import type { Host } from '../../host/host.js'
import { cidrOf, formatAddress, formatCidr, parseAddress, tryParseCidr } from '../cidr.js'
import type { ExistingRoute } from '../route-plan.js'
import type { HostChange } from '../../host/change.js'
import type { LocalAddress, RouteTable } from './types.js'

const GONE = ['Element not found', 'cannot find', 'not found']

interface PsRoute {
  readonly DestinationPrefix?: string
  readonly InterfaceAlias?: string
  readonly NextHop?: string
}

interface PsAddress {
  readonly IPAddress?: string
  readonly PrefixLength?: number
  readonly InterfaceAlias?: string
}

/** The Windows route table. */
export function windowsRouteTable(host: Host): RouteTable {
  const ps = async (script: string, signal?: AbortSignal): Promise<unknown[]> => {
    const result = await host.run('powershell', ['-NoProfile', '-NonInteractive', '-Command', script], {
      ...(signal ? { signal } : {}),
    })
    return asArray(result.stdout)
  }
  const netsh = (description: string, argv: readonly string[], undo: readonly string[]): HostChange => ({
    description,
    undo: { op: 'run', argv: ['netsh', ...undo], alreadyDone: GONE },
    async apply(signal) {
      await host.run('netsh', argv, signal ? { signal } : {})
    },
  })
  return {
    platform: 'windows',
    async listRoutes(signal) {
      const rows = await ps(
        'Get-NetRoute -PolicyStore ActiveStore | Select-Object DestinationPrefix,InterfaceAlias,NextHop | ConvertTo-Json -Compress',
        signal,
      )
      return parseRoutes(rows as PsRoute[])
    },
    async localAddresses(signal) {
      const rows = await ps(
        'Get-NetIPAddress | Select-Object IPAddress,PrefixLength,InterfaceAlias | ConvertTo-Json -Compress',
        signal,
      )
      return parseAddresses(rows as PsAddress[])
    },
    async link(device, signal) {
      const rows = (await ps(
        `Get-NetAdapter -Name '${device.replace(/'/g, "''")}' -ErrorAction SilentlyContinue | Select-Object Status | ConvertTo-Json -Compress`,
        signal,
      )) as { Status?: string }[]
      const status = rows[0]?.Status
      return { exists: rows.length > 0, up: status === 'Up', carrier: status === 'Up' }
    },
    async setUp(device, signal) {
      await host.run('netsh', ['interface', 'set', 'interface', `name=${device}`, 'admin=enabled'], {
        ...(signal ? { signal } : {}),
      })
    },
    addRoute(destination, device) {
      const cidr = formatCidr(destination)
      const family = destination.family === 6 ? 'ipv6' : 'ipv4'
      const args = [`prefix=${cidr}`, `interface=${device}`, 'store=active']
      return netsh(
        `route ${cidr} dev ${device}`,
        ['interface', family, 'add', 'route', ...args],
        ['interface', family, 'delete', 'route', ...args],
      )
    },
    addAddress(device, address) {
      const ip = formatAddress(address.family, address.base)
      return netsh(
        `address ${ip} on ${device}`,
        [
          'interface',
          'ipv4',
          'add',
          'address',
          `name=${device}`,
          `address=${ip}`,
          'mask=255.255.255.255',
          'store=active',
        ],
        ['interface', 'ipv4', 'delete', 'address', `name=${device}`, `address=${ip}`],
      )
    },
  }
}

// ConvertTo-Json prints a lone object instead of a one-element array, and nothing for none.
function asArray(stdout: string): unknown[] {
  const text = stdout.trim()
  if (text === '') return []
  const parsed = JSON.parse(text) as unknown
  return Array.isArray(parsed) ? parsed : [parsed]
}

/** Parses `Get-NetRoute` rows. */
export function parseRoutes(rows: readonly PsRoute[]): ExistingRoute[] {
  const out: ExistingRoute[] = []
  for (const row of rows) {
    const destination = row.DestinationPrefix ? tryParseCidr(row.DestinationPrefix) : undefined
    if (!destination) continue
    const onLink = row.NextHop === undefined || row.NextHop === '0.0.0.0' || row.NextHop === '::'
    out.push({
      destination,
      device: row.InterfaceAlias ?? '',
      ...(onLink ? {} : { gateway: row.NextHop }),
    })
  }
  return out
}

/** Parses `Get-NetIPAddress` rows (link-local scope ids like `%12` are dropped). */
export function parseAddresses(rows: readonly PsAddress[]): LocalAddress[] {
  const out: LocalAddress[] = []
  for (const row of rows) {
    const parsed = row.IPAddress ? parseAddress(row.IPAddress.replace(/%.*$/, '')) : undefined
    if (!parsed || row.PrefixLength === undefined) continue
    out.push({
      device: row.InterfaceAlias ?? '',
      address: { family: parsed.family, base: parsed.value, prefix: parsed.family === 4 ? 32 : 128 },
      subnet: cidrOf(parsed.family, parsed.value, row.PrefixLength),
    })
  }
  return out
}
