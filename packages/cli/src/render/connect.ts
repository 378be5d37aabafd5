import type { ConnectSession } from '@ktx/core'

import { renderTunReady } from './tun.js'

/**
 * The summary printed once a connect session is ready. Socks mode: addresses and shell `export`
 * lines; TUN mode: see {@link renderTunReady}.
 */
export function renderConnectReady(
  session: Pick<ConnectSession, 'socks' | 'http' | 'namespace' | 'pod' | 'tun'>,
): string[] {
  if (session.tun) return renderTunReady(session, session.tun)
  return [
    `Connected: shadow pod ${session.namespace}/${session.pod}`,
    `SOCKS5 proxy: ${session.socks.url}`,
    `HTTP proxy:   ${session.http.url}`,
    '',
    'To use it from a shell:',
    `export ALL_PROXY=${session.socks.url}`,
    `export HTTP_PROXY=${session.http.url}`,
    `export HTTPS_PROXY=${session.http.url}`,
    '',
    'Press Ctrl+C to disconnect.',
  ]
}
