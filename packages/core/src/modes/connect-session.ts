import type { ProxyEndpoint } from '../session.js'
import type { ConnectSession } from './connect.js'
import { type HandleParts, buildSessionHandle } from './shared/session-handle.js'

/** The public, ready-made parts of a session. */
export type Endpoints = Pick<
  ConnectSession,
  'id' | 'namespace' | 'pod' | 'httpAgent' | 'httpsAgent' | 'dispatcher' | 'tun'
> & {
  readonly socks: ProxyEndpoint
  readonly http: ProxyEndpoint
}

/**
 * Wraps the built pieces into the {@link ConnectSession} handle (see {@link buildSessionHandle});
 * `destroy()` also drops the agents' pooled sockets.
 */
export function buildSession(endpoints: Endpoints, parts: HandleParts): ConnectSession {
  return buildSessionHandle('connect', endpoints, {
    ...parts,
    onDestroy: () => {
      endpoints.httpAgent.destroy()
      endpoints.httpsAgent.destroy()
      parts.onDestroy?.()
    },
  })
}
