import { CleanupStack } from '../cleanup/stack.js'
import { messageOf } from '../errors.js'
import type { SessionEvent } from '../events.js'
import type { Logger } from '../logger.js'
import type { ProxyEndpoint, Session, SessionEnd } from '../session.js'
import type { ConnectSession } from './connect.js'

/** What the session handle needs to run and tear down. */
export interface SessionParts {
  readonly stack: CleanupStack
  readonly internal: AbortController
  readonly lease: { stopRenewing(): void }
  readonly ssh: { ended: Promise<Error | undefined>; destroy(): void }
  readonly forward: { destroy(): void }
  readonly signal: AbortSignal | undefined
  readonly emit: (event: SessionEvent) => void
  readonly log: Logger
}

/** The public, ready-made parts of a session. */
export type Endpoints = Pick<
  ConnectSession,
  'id' | 'namespace' | 'pod' | 'httpAgent' | 'httpsAgent' | 'dispatcher'
> & {
  readonly socks: ProxyEndpoint
  readonly http: ProxyEndpoint
}

/**
 * Wraps the built pieces into the {@link ConnectSession} handle: memoised close(), destroy(),
 * asyncDispose that never throws, and `ended`, which also settles when the tunnel dies (the
 * session then cleans up after itself).
 */
export function buildSession(endpoints: Endpoints, parts: SessionParts): ConnectSession {
  const { stack, log, emit } = parts
  let state: Session['state'] = 'ready'
  let resolveEnded: (end: SessionEnd) => void = () => undefined
  const ended = new Promise<SessionEnd>((resolve) => (resolveEnded = resolve))
  let closing: Promise<void> | undefined

  const teardown = (end: SessionEnd): Promise<void> => {
    closing ??= (async () => {
      state = 'closing'
      try {
        await stack.unwind()
        resolveEnded(end)
      } catch (error) {
        resolveEnded({ ...end, error: end.error ?? error })
        throw error
      } finally {
        state = 'closed'
        parts.signal?.removeEventListener('abort', onAbort)
      }
    })()
    return closing
  }
  const onAbort = (): void => {
    teardown({ reason: 'closed' }).catch(() => undefined)
  }
  parts.signal?.addEventListener('abort', onAbort, { once: true })

  // A lost tunnel ends the session: nothing can flow any more, so clean up what we made.
  void parts.ssh.ended.then((error) => {
    if (!error || closing) return
    emit({ type: 'tunnel.down', error })
    log.error('Tunnel lost', { error: messageOf(error) })
    teardown({ reason: 'failed', error }).catch(() => undefined)
  })

  const session: ConnectSession = {
    ...endpoints,
    kind: 'connect',
    get state() {
      return state
    },
    ended,
    close: () => teardown({ reason: 'closed' }),
    destroy(reason?: unknown) {
      parts.internal.abort(reason)
      parts.lease.stopRenewing()
      parts.ssh.destroy()
      parts.forward.destroy()
      endpoints.httpAgent.destroy()
      endpoints.httpsAgent.destroy()
      // Best effort: the deletes are started but not awaited; `ktx clean` reaps the rest.
      teardown({ reason: 'destroyed', ...(reason === undefined ? {} : { error: reason }) }).catch(
        () => undefined,
      )
    },
    async [Symbol.asyncDispose]() {
      try {
        await session.close()
      } catch (error) {
        // A throwing disposer would hide the scope's own error behind a SuppressedError.
        log.error('Session cleanup failed', { error: messageOf(error) })
        emit({ type: 'cleanup.failed', name: 'session', error })
      }
    },
  }
  return session
}
