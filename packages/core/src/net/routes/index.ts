/**
 * The routing table and TUN link of this machine behind one interface; `linux.ts` does the work
 * with `ip`, `darwin.ts` with `route`/`ifconfig`/`netstat`, `windows.ts` with PowerShell and
 * `netsh`. Reads are methods; every change is a {@link HostChange} the caller journals first
 * (`applyChange`), so it can be undone on close and replayed by `ktx clean` after a crash.
 */
import { HostError } from '../../errors.js'
import type { Host } from '../../host/host.js'
import type { RouteTable } from './types.js'
import { darwinRouteTable } from './darwin.js'
import { linuxRouteTable } from './linux.js'
import { windowsRouteTable } from './windows.js'

/**
 * The route table for `host.platform`.
 * @throws HostError `KTX_PLATFORM_UNSUPPORTED` on other platforms.
 */
export function openRouteTable(host: Host): RouteTable {
  switch (host.platform) {
    case 'linux':
      return linuxRouteTable(host)
    case 'darwin':
      return darwinRouteTable(host)
    case 'win32':
      return windowsRouteTable(host)
    default:
      throw new HostError('KTX_PLATFORM_UNSUPPORTED', `TUN mode is not supported on ${host.platform}`, {
        suggestions: ['Use --mode socks, which needs no TUN device.'],
      })
  }
}
