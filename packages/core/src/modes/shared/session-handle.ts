import { messageOf } from '../../errors.js'
import type { Session, SessionEnd } from '../../session.js'
import type { SetupContext } from './setup.js'

/** What a session handle needs to run and tear down. */
export interface HandleParts {
  readonly ctx: SetupContext
  readonly lease: { stopRenewing(): void }
  /** The shadow tunnel: `ended` settles only when it could not be rebuilt. */
  readonly tunnel: {
    readonly ended: Promise<Error>
    readonly state: 'ready' | 'degraded'
    stopHealing(): void
    destroy(): void
  }
  /** Extra synchronous teardown for `destroy()` (agents, local sockets). */
  readonly onDestroy?: () => void
  /** Resolves with an error when the session fails at run time some other way (exchange losing its Service). */
  readonly failure?: Promise<Error>
}

/**
 * Wraps a built session into its handle: memoised close(), destroy(), an asyncDispose that never
 * throws, `state` (`degraded` while the tunnel heals), and `ended`, which also settles when the
 * tunnel is lost for good or `failure` rejects (the session then cleans up after itself). Aborting
 * the caller's signal after ready closes the session.
 */
export function buildSessionHandle<K extends Session['kind'], T extends object>(
  kind: K,
  fields: T & { readonly id: string; readonly namespace: string },
  parts: HandleParts,
): Session & { readonly kind: K } & T {
  const { stack, log, emit, internal, callerSignal } = parts.ctx
  let state: Session['state'] = 'ready'
  let resolveEnded: (end: SessionEnd) => void = () => undefined
  const ended = new Promise<SessionEnd>((resolve) => (resolveEnded = resolve))
  let closing: Promise<void> | undefined

  const teardown = (end: SessionEnd): Promise<void> => {
    closing ??= (async () => {
      state = 'closing'
      // A rebuild finishing mid-teardown would bring back listeners and labels the undos just removed.
      parts.tunnel.stopHealing()
      try {
        await stack.unwind()
        resolveEnded(end)
      } catch (error) {
        resolveEnded({ ...end, error: end.error ?? error })
        throw error
      } finally {
        state = 'closed'
        callerSignal?.removeEventListener('abort', onAbort)
      }
    })()
    return closing
  }
  const onAbort = (): void => {
    teardown({ reason: 'closed' }).catch(() => undefined)
  }
  callerSignal?.addEventListener('abort', onAbort, { once: true })

  const failWith = (error: Error): void => {
    if (closing) return
    log.error('Session failed', { error: messageOf(error) })
    teardown({ reason: 'failed', error }).catch(() => undefined)
  }
  // A tunnel that could not be rebuilt ends the session: nothing can flow, so put everything back.
  void parts.tunnel.ended.then((error) => {
    if (closing) return
    emit({ type: 'tunnel.down', error })
    failWith(error)
  })
  void parts.failure?.then(failWith)

  const handle = {
    id: fields.id,
    namespace: fields.namespace,
    kind,
    get state() {
      return state === 'ready' && parts.tunnel.state === 'degraded' ? 'degraded' : state
    },
    ended,
    close: () => teardown({ reason: 'closed' }),
    hurry: () => {
      stack.hurry()
      return teardown({ reason: 'closed' })
    },
    destroy(reason?: unknown) {
      internal.abort(reason)
      parts.lease.stopRenewing()
      parts.tunnel.destroy()
      parts.onDestroy?.()
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
  // The fields keep their getters: `pod` follows the tunnel to a replacement pod.
  const session = Object.defineProperties(handle, Object.getOwnPropertyDescriptors(fields)) as typeof handle &
    T
  return session
}
