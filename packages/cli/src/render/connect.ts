import { type ConnectSession, urlWithCredentials } from '@ktx/core'

import { renderTunReady } from './tun.js'

/**
 * The summary printed once a connect session is ready. Socks mode: addresses and shell `export`
 * lines; TUN mode: see {@link renderTunReady}.
 */
export function renderConnectReady(
  session: Pick<ConnectSession, 'socks' | 'http' | 'namespace' | 'pod' | 'tun'>,
): string[] {
  if (session.tun) return renderTunReady(session, session.tun)
  // With --proxyAuth the export lines carry the session's credentials (only this terminal sees them).
  const socksUrl = urlWithCredentials(session.socks.url, session.socks.credentials)
  const httpUrl = urlWithCredentials(session.http.url, session.http.credentials)
  return [
    `Connected: shadow pod ${session.namespace}/${session.pod}`,
    `SOCKS5 proxy: ${session.socks.url}`,
    `HTTP proxy:   ${session.http.url}`,
    '',
    'To use it from a shell:',
    `export ALL_PROXY=${socksUrl}`,
    `export HTTP_PROXY=${httpUrl}`,
    `export HTTPS_PROXY=${httpUrl}`,
    '',
    'Press Ctrl+C to disconnect.',
  ]
}
