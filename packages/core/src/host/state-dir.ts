import { homedir } from 'node:os'
import { join } from 'node:path'

/** `~/.ktx`: ktx's state on this machine (the host journal, `bin/` for tun2socks). */
export function defaultStateDir(): string {
  return join(homedir(), '.ktx')
}
