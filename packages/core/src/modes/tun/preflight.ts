/**
 * Checks made before ktx touches the cluster or this machine, so each common refusal is a clear
 * error with nothing changed: not root, no tun2socks, the TUN device name taken.
 */
import { HostError, PermissionError, isKtxError } from '../../errors.js'
import type { Host } from '../../host/host.js'
import { openRouteTable } from '../../net/routes/index.js'
import type { RouteTable } from '../../net/routes/types.js'
import { type Tun2socksBinary, findTun2socks } from '../../net/tun/binary.js'
import { type ResolvedTunOptions, defaultDeviceName } from './options.js'

/** What the preflight found. */
export interface TunPreflight {
  readonly host: Host
  readonly routeTable: RouteTable
  readonly binary: Tun2socksBinary
  /** The device name to use. */
  readonly device: string
}

/**
 * @throws PermissionError `KTX_TUN_REQUIRES_ELEVATION`, HostError `KTX_TUN2SOCKS_NOT_FOUND` /
 *   `KTX_TUN2SOCKS_VERSION` / `KTX_TUN_NAME_TAKEN` / `KTX_PLATFORM_UNSUPPORTED`.
 */
export async function preflightTun(options: {
  readonly host: Host
  readonly stateDir: string
  readonly tun: ResolvedTunOptions
  readonly signal?: AbortSignal
}): Promise<TunPreflight> {
  const { host, signal } = options
  const routeTable = openRouteTable(host)
  if (!(await isElevated(host, signal))) {
    throw new PermissionError(
      'KTX_TUN_REQUIRES_ELEVATION',
      `TUN mode needs ${host.platform === 'win32' ? 'Administrator rights' : 'root'}: it creates a network device, routes and resolver settings`,
      {
        suggestions: [
          host.platform === 'win32'
            ? 'Run the terminal as Administrator.'
            : 'Run it with sudo, keeping your kubeconfig: sudo -E ktx connect …',
          'Or use --mode socks, which needs no root (SOCKS5 and HTTP proxies).',
        ],
      },
    )
  }
  const binary = await findTun2socks(host, {
    explicit: options.tun.tun2socks,
    stateDir: options.stateDir,
    ...(signal ? { signal } : {}),
  })
  const device = options.tun.device ?? (await pickDevice(host, routeTable, signal))
  // On Linux ktx creates the device itself, so an existing one is someone else's (or a crash's).
  if (routeTable.createTun && (await routeTable.link(device, signal)).exists) {
    throw new HostError('KTX_TUN_NAME_TAKEN', `A network device named "${device}" exists already`, {
      suggestions: [
        'Pick another name with --tunName <name>.',
        'If a crashed ktx session left it behind, run `ktx clean`.',
      ],
      data: { device },
    })
  }
  return { host, routeTable, binary, device }
}

async function isElevated(host: Host, signal?: AbortSignal): Promise<boolean> {
  if (host.platform !== 'win32') return host.isElevated()
  // `net session` only succeeds for Administrators.
  try {
    await host.run('net', ['session'], signal ? { signal } : {})
    return true
  } catch (error) {
    if (signal?.aborted) throw signal.reason
    if (isKtxError(error)) return false
    throw error
  }
}

// macOS only has utunN, numbered by the kernel: take one past the highest in use.
async function pickDevice(host: Host, table: RouteTable, signal?: AbortSignal): Promise<string> {
  if (host.platform !== 'darwin') return defaultDeviceName(host.platform)
  const used = (await table.localAddresses(signal)).map((a) => /^utun(\d+)$/.exec(a.device)?.[1])
  const highest = Math.max(-1, ...used.filter((n): n is string => n !== undefined).map(Number))
  for (let n = Math.max(highest + 1, 0); ; n += 1) {
    if (!(await table.link(`utun${n}`, signal)).exists) return `utun${n}`
  }
}
