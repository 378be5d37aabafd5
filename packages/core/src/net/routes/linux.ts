/**
 * Linux: iproute2 (`ip -j …` for reads, JSON output). The TUN device is created persistent with
 * `ip tuntap add` before tun2socks attaches, so its name is known to be free and ktx decides when
 * it goes away; routes go with the device, but each one is still journalled and deleted.
 */
import { ExternalCommandError } from '../../errors.js'
import { tail } from '../../exec/run.js'
import type { Host } from '../../host/host.js'
import { type Cidr, cidrOf, formatCidr, parseAddress, tryParseCidr } from '../cidr.js'
import type { ExistingRoute } from '../route-plan.js'
import type { HostChange } from '../../host/change.js'
import type { LinkState, LocalAddress, RouteTable } from './types.js'

// iproute2's words for "that is already gone", in undo steps.
const GONE = ['Cannot find device', 'does not exist', 'No such process', 'Cannot assign requested address']

interface IpRoute {
  readonly dst?: string
  readonly dev?: string
  readonly gateway?: string
  readonly type?: string
}

interface IpAddr {
  readonly ifname?: string
  readonly addr_info?: readonly { family?: string; local?: string; prefixlen?: number }[]
}

interface IpLink {
  readonly flags?: readonly string[]
}

/** The Linux route table, through `ip`. */
export function linuxRouteTable(host: Host): RouteTable {
  const ip = async (args: readonly string[], signal?: AbortSignal): Promise<unknown> => {
    const result = await host.run('ip', args, signal ? { signal } : {})
    return result.stdout.trim() === '' ? [] : (JSON.parse(result.stdout) as unknown)
  }
  const change = (description: string, argv: readonly string[], undo: readonly string[]): HostChange => ({
    description,
    undo: { op: 'run', argv: ['ip', ...undo], alreadyDone: GONE },
    async apply(signal) {
      await host.run('ip', argv, signal ? { signal } : {})
    },
  })
  return {
    platform: 'linux',
    async listRoutes(signal) {
      const v4 = (await ip(['-j', 'route', 'show', 'table', 'main'], signal)) as IpRoute[]
      const v6 = (await ip(['-6', '-j', 'route', 'show', 'table', 'main'], signal).catch(
        () => [],
      )) as IpRoute[]
      return [...parseRoutes(v4, 4), ...parseRoutes(v6, 6)]
    },
    async localAddresses(signal) {
      return parseAddresses((await ip(['-j', 'addr', 'show'], signal)) as IpAddr[])
    },
    async link(device, signal) {
      const result = await host.run('ip', ['-j', 'link', 'show', 'dev', device], {
        check: false,
        ...(signal ? { signal } : {}),
      })
      if (result.exitCode !== 0) {
        if (result.stderr.includes('does not exist')) return { exists: false, up: false, carrier: false }
        throw new ExternalCommandError(
          `ip -j link show dev ${device} exited with code ${result.exitCode}: ${tail(result.stderr)}`,
          { command: 'ip', args: result.args, exitCode: result.exitCode, stderrTail: tail(result.stderr) },
        )
      }
      return parseLink(JSON.parse(result.stdout) as IpLink[])
    },
    createTun(device) {
      return change(
        `TUN device ${device}`,
        ['tuntap', 'add', 'dev', device, 'mode', 'tun'],
        ['link', 'delete', device],
      )
    },
    async setUp(device, signal) {
      await host.run('ip', ['link', 'set', 'dev', device, 'up'], signal ? { signal } : {})
    },
    addRoute(destination, device) {
      const cidr = formatCidr(destination)
      const family = destination.family === 6 ? ['-6'] : []
      return change(
        `route ${cidr} dev ${device}`,
        [...family, 'route', 'add', cidr, 'dev', device],
        [...family, 'route', 'delete', cidr, 'dev', device],
      )
    },
    addAddress(device, address) {
      const cidr = formatCidr(address)
      return change(
        `address ${cidr} on ${device}`,
        ['addr', 'add', cidr, 'dev', device],
        ['addr', 'delete', cidr, 'dev', device],
      )
    },
  }
}

/** Parses `ip -j route show` output. `default` is 0.0.0.0/0 (::/0); host routes have no prefix. */
export function parseRoutes(routes: readonly IpRoute[], family: 4 | 6): ExistingRoute[] {
  const out: ExistingRoute[] = []
  for (const route of routes) {
    if (route.dst === undefined) continue
    const destination =
      route.dst === 'default' ? tryParseCidr(family === 4 ? '0.0.0.0/0' : '::/0') : tryParseCidr(route.dst)
    if (!destination) continue
    out.push({
      destination,
      device: route.dev ?? route.type ?? 'unknown',
      ...(route.gateway ? { gateway: route.gateway } : {}),
    })
  }
  return out
}

/** Parses `ip -j addr show` output into addresses and their subnets. */
export function parseAddresses(links: readonly IpAddr[]): LocalAddress[] {
  const out: LocalAddress[] = []
  for (const link of links) {
    for (const info of link.addr_info ?? []) {
      const parsed = info.local === undefined ? undefined : parseAddress(info.local)
      if (!parsed || info.prefixlen === undefined) continue
      const bits = parsed.family === 4 ? 32 : 128
      const address: Cidr = { family: parsed.family, base: parsed.value, prefix: bits }
      out.push({
        device: link.ifname ?? '',
        address,
        subnet: cidrOf(parsed.family, parsed.value, info.prefixlen),
      })
    }
  }
  return out
}

/** Parses `ip -j link show dev X` output. */
export function parseLink(links: readonly IpLink[]): LinkState {
  const flags = links[0]?.flags ?? []
  return {
    exists: links.length > 0,
    up: flags.includes('UP'),
    carrier: flags.includes('LOWER_UP') && !flags.includes('NO-CARRIER'),
  }
}
