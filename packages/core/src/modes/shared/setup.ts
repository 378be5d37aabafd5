/**
 * The setup scaffolding every session mode shares: a session id, a logger bound to it, a safe event
 * emitter, the cleanup stack, the internal abort controller, and `step()`, which reports progress
 * and refuses to start a step once the setup was aborted.
 */
import { randomBytes } from 'node:crypto'

import { CleanupStack } from '../../util/cleanup-stack.js'
import { isKtxError, messageOf } from '../../errors.js'
import type { SessionEvent, StepId } from '../../events.js'
import type { Logger } from '../../logger.js'
import type { ResolvedBaseOptions } from '../../options.js'

/**
 * What {@link createSetupContext} needs of a verb's resolved options. The caller's signal: aborting
 * it during setup unwinds and rejects with its reason.
 */
export type SetupInput = Pick<ResolvedBaseOptions, 'logger' | 'onEvent' | 'signal' | 'timeouts'> &
  Partial<Pick<ResolvedBaseOptions, 'hurry'>>

/** The state of one session while it is being built. */
export interface SetupContext {
  /** Random 8-hex-digit id; the `ktx.dev/session` label of everything the session makes. */
  readonly id: string
  readonly log: Logger
  /** Emits to the caller's `onEvent`; a throwing handler is logged and ignored. */
  readonly emit: (event: SessionEvent) => void
  /** Undo steps, registered the moment each thing is made. */
  readonly stack: CleanupStack
  /** Aborted by `destroy()` and by a failed setup: cuts sockets, watches and timers. */
  readonly internal: AbortController
  /** Aborts when either the caller's signal or {@link internal} does. */
  readonly signal: AbortSignal
  /** The caller's own signal (undefined when none was given). */
  readonly callerSignal: AbortSignal | undefined
  /** Runs one reported setup step (`step.start` → `step.done` | `step.fail`). */
  readonly step: <T>(id: StepId, fn: () => Promise<T>, detail?: string) => Promise<T>
  /**
   * Unwinds everything made so far and returns the error to throw: the caller's abort reason when
   * it aborted, otherwise `error`.
   */
  readonly fail: (error: unknown) => Promise<unknown>
}

/** Starts the setup of a new session. */
export function createSetupContext(input: SetupInput): SetupContext {
  const id = randomBytes(4).toString('hex')
  const log = input.logger.child({ session: id })
  const emit = (event: SessionEvent): void => {
    try {
      input.onEvent(event)
    } catch (error) {
      log.warn('onEvent handler threw; ignored', { error: isKtxError(error) ? error.code : messageOf(error) })
    }
  }
  const internal = new AbortController()
  const stack = new CleanupStack({
    stepTimeoutMs: input.timeouts.cleanupStepMs,
    onStep: (name) => {
      emit({ type: 'cleanup.step', name })
    },
    onError: (name, error) => {
      emit({ type: 'cleanup.failed', name, error })
    },
    ...(input.hurry ? { hurry: input.hurry } : {}),
  })
  const signal = AbortSignal.any([internal.signal, ...(input.signal ? [input.signal] : [])])

  return {
    id,
    log,
    emit,
    stack,
    internal,
    signal,
    callerSignal: input.signal,
    step: async (step, fn, detail) => {
      // Checked between steps too, so an abort never starts the next cluster write.
      signal.throwIfAborted()
      emit({ type: 'step.start', step, ...(detail ? { detail } : {}) })
      try {
        const value = await fn()
        emit({ type: 'step.done', step })
        return value
      } catch (error) {
        emit({ type: 'step.fail', step, error })
        throw error
      }
    },
    fail: async (error) => {
      internal.abort()
      await stack.unwind().catch((cleanupError: unknown) => {
        log.error('Cleanup after a failed setup was incomplete', { error: messageOf(cleanupError) })
      })
      return input.signal?.aborted ? (input.signal.reason as unknown) : error
    },
  }
}
