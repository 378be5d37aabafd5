/**
 * macOS: `netstat -rn` and `ifconfig` for reads, `route -n` for changes. tun2socks creates the
 * `utunN` device itself (macOS has no persistent TUN devices), so there is no `createTun`.
 * Designed and unit-tested against recorded output; the e2e suite runs on Linux.
 */
import type { Host } from '../../host/host.js'
import { type Cidr, cidrOf, formatAddress, formatCidr, parseAddress, tryParseCidr } from '../cidr.js'
import type { ExistingRoute } from '../route-plan.js'
import type { HostChange } from '../../host/change.js'
import type { LocalAddress, RouteTable } from './types.js'

const GONE = ['not in table', 'does not exist', "Can't assign requested address"]

/** The macOS route table. */
export function darwinRouteTable(host: Host): RouteTable {
  const change = (
    description: string,
    command: string,
    argv: readonly string[],
    undo: readonly string[],
  ): HostChange => ({
    description,
    undo: { op: 'run', argv: [command, ...undo], alreadyDone: GONE },
    async apply(signal) {
      await host.run(command, argv, signal ? { signal } : {})
    },
  })
  return {
    platform: 'darwin',
    async listRoutes(signal) {
      const v4 = await host.run('netstat', ['-rn', '-f', 'inet'], signal ? { signal } : {})
      const v6 = await host.run('netstat', ['-rn', '-f', 'inet6'], {
        check: false,
        ...(signal ? { signal } : {}),
      })
      return [...parseNetstat(v4.stdout, 4), ...parseNetstat(v6.stdout, 6)]
    },
    async localAddresses(signal) {
      return parseIfconfig((await host.run('ifconfig', ['-a'], signal ? { signal } : {})).stdout)
    },
    async link(device, signal) {
      const result = await host.run('ifconfig', [device], { check: false, ...(signal ? { signal } : {}) })
      if (result.exitCode !== 0) return { exists: false, up: false, carrier: false }
      const flags = /flags=\w+<([^>]*)>/.exec(result.stdout)?.[1]?.split(',') ?? []
      return { exists: true, up: flags.includes('UP'), carrier: flags.includes('RUNNING') }
    },
    async setUp(device, signal) {
      await host.run('ifconfig', [device, 'up'], signal ? { signal } : {})
    },
    addRoute(destination, device) {
      const cidr = formatCidr(destination)
      const family = destination.family === 6 ? ['-inet6'] : []
      return change(
        `route ${cidr} dev ${device}`,
        'route',
        ['-n', 'add', ...family, '-net', cidr, '-interface', device],
        ['-n', 'delete', ...family, '-net', cidr, '-interface', device],
      )
    },
    addAddress(device, address) {
      const ip = formatAddress(address.family, address.base)
      return change(
        `address ${ip} on ${device}`,
        'ifconfig',
        [device, 'inet', ip, ip, 'alias'],
        [device, 'inet', ip, '-alias'],
      )
    },
  }
}

/**
 * Parses `netstat -rn` output. macOS abbreviates networks: `10.96/16`, `192.168.1` (a /24),
 * `127` (a /8); `H` in the flags marks a host route.
 */
export function parseNetstat(text: string, family: 4 | 6): ExistingRoute[] {
  const out: ExistingRoute[] = []
  for (const line of text.split('\n')) {
    const [dst, gateway, flags = '', netif] = line.trim().split(/\s+/)
    if (!dst || !netif || dst === 'Destination' || !/^[A-Za-z]+$/.test(flags)) continue
    const destination = parseDarwinDestination(dst.replace(/%\w+/, ''), family, flags.includes('H'))
    if (!destination) continue
    out.push({ destination, device: netif, ...(gateway && !gateway.startsWith('link#') ? { gateway } : {}) })
  }
  return out
}

function parseDarwinDestination(dst: string, family: 4 | 6, isHost: boolean): Cidr | undefined {
  if (dst === 'default') return tryParseCidr(family === 4 ? '0.0.0.0/0' : '::/0')
  if (family === 6) return tryParseCidr(dst)
  const [network = '', prefixText] = dst.split('/')
  const octets = network.split('.')
  if (octets.length > 4 || octets.some((o) => !/^\d+$/.test(o))) return undefined
  const padded = [...octets, '0', '0', '0', '0'].slice(0, 4).join('.')
  const prefix = prefixText ?? (isHost && octets.length === 4 ? '32' : String(octets.length * 8))
  return tryParseCidr(`${padded}/${prefix}`)
}

/** Parses `ifconfig -a` output into addresses and subnets. */
export function parseIfconfig(text: string): LocalAddress[] {
  const out: LocalAddress[] = []
  let device = ''
  for (const line of text.split('\n')) {
    const header = /^(\S+?):\s+flags=/.exec(line)
    if (header?.[1]) {
      device = header[1]
      continue
    }
    const v4 = /^\s+inet (\d+\.\d+\.\d+\.\d+)(?: --> \S+)? netmask (0x[0-9a-f]+)/.exec(line)
    const v6 = /^\s+inet6 ([0-9a-f:]+)(?:%\S+)? prefixlen (\d+)/.exec(line)
    const parsed = v4?.[1] ? parseAddress(v4[1]) : v6?.[1] ? parseAddress(v6[1]) : undefined
    if (!parsed) continue
    const prefix = v4?.[2] ? popcount(Number.parseInt(v4[2], 16)) : Number(v6?.[2])
    out.push({
      device,
      address: { family: parsed.family, base: parsed.value, prefix: parsed.family === 4 ? 32 : 128 },
      subnet: cidrOf(parsed.family, parsed.value, prefix),
    })
  }
  return out
}

function popcount(mask: number): number {
  let count = 0
  for (let m = mask >>> 0; m !== 0; m >>>= 1) count += m & 1
  return count
}
