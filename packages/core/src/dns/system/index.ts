/**
 * Pointing this machine's resolver at ktx's DNS server, the least invasive way each OS allows,
 * behind one interface: `linux.ts` (systemd-resolved per-link routing domains when present, else
 * `/etc/resolv.conf` rewritten in place), `darwin.ts` (`/etc/resolver/<domain>` files: only
 * cluster names reach ktx), `windows.ts` (NRPT rules). Every change is a journalled
 * {@link HostChange}.
 */
import { HostError } from '../../errors.js'
import type { Host } from '../../host/host.js'
import type { SystemResolver } from './types.js'
import { darwinResolver } from './darwin.js'
import { linuxResolver } from './linux.js'
import { windowsResolver } from './windows.js'

/** @throws HostError `KTX_PLATFORM_UNSUPPORTED` on other platforms. */
export function openSystemResolver(host: Host): SystemResolver {
  switch (host.platform) {
    case 'linux':
      return linuxResolver(host)
    case 'darwin':
      return darwinResolver(host)
    case 'win32':
      return windowsResolver(host)
    default:
      throw new HostError('KTX_PLATFORM_UNSUPPORTED', `Local DNS is not supported on ${host.platform}`, {
        suggestions: ['Use --dnsMode hosts or --dnsMode none.'],
      })
  }
}
