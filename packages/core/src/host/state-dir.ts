import { homedir } from 'node:os'
import { join } from 'node:path'

import type { Host } from './host.js'

/** `~/.ktx`: this user's ktx state (logs, `bin/` for tun2socks, the journal when not root). */
export function defaultStateDir(): string {
  return join(homedir(), '.ktx')
}

/**
 * Where ktx keeps its state when it runs as root: a directory only root can write, so the host
 * journal that `ktx clean` replays as root (commands it runs, files it rewrites) cannot be
 * planted by another user. `/var/lib/ktx` on Linux (not /run: it must outlive a reboot, since a
 * hosts-file block does), `/var/db/ktx` on macOS.
 */
export function systemStateDir(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? '/var/db/ktx' : '/var/lib/ktx'
}

/**
 * The state directory of a session or `ktx clean` on `host`: {@link systemStateDir} as root on
 * Unix, `~/.ktx` otherwise (Windows: Administrators keep the per-user one; see host/trust.ts).
 */
export function hostStateDir(host: Host): string {
  return host.platform !== 'win32' && host.isElevated() ? systemStateDir(host.platform) : defaultStateDir()
}
