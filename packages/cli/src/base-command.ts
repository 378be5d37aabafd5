import { join } from 'node:path'

import { Command, Errors, type Interfaces } from '@oclif/core'
import {
  type LocalSessionFile,
  type Logger,
  type Session,
  type SessionEvent,
  isKtxError,
  messageOf,
  trackLocalSession,
} from '@ktx/core'

import { type LogFile, openLogFile, stderrLogger, teeLogger } from './logger.js'
import { Interrupted, renderError } from './render/error.js'
import { renderEvent } from './render/events.js'
import { fillFromUserConfig, loadUserConfig, stateDir } from './user-config.js'

// oclif's FlagOutput / ArgOutput, which it does not export.
type Parsed = Record<string, unknown>

/**
 * What a command hands to core: logger, progress renderer, an abort signal tied to the first
 * Ctrl+C (or SIGTERM, SIGHUP) and a hurry signal tied to the second.
 */
export interface Runtime {
  readonly logger: Logger
  readonly onEvent: (event: SessionEvent) => void
  readonly signal: AbortSignal
  readonly hurry: AbortSignal
}

// Closing the terminal (SIGHUP) or a killed pipe must not stop a teardown: ktx has nothing to say
// worth dying for.
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * The one funnel of every ktx command: builds the runtime, holds a session until it ends, maps
 * signals and renders errors as `Error (CODE): message` plus "Try this:" with an exit code by
 * category.
 *
 * Signals: the first SIGINT, SIGTERM or SIGHUP starts the graceful close (during setup: unwinds
 * what was made); exit 0 once everything is put back (130 during setup). The second hurries it:
 * every undo still runs (the Service is put back, pods deleted, this machine restored) but
 * nothing waits for it to settle; exit 130. Later ones only say that the undos are still running.
 * A process that is killed (-9) leaves its changes to `ktx clean`.
 */
export abstract class KtxCommand extends Command {
  #session: Session | undefined
  #signals = 0
  readonly #abort = new AbortController()
  readonly #hurry = new AbortController()
  #hurried: NodeJS.Signals | undefined
  #logFile: LogFile | undefined
  #listening = false
  #register: LocalSessionFile | undefined

  /** oclif's parse, then unset settings (`--image`, `--namespace`, …) from the settings file. */
  protected override async parse<F extends Parsed, B extends Parsed, A extends Parsed>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv)
    const commandFlags = options?.flags ?? {}
    return { ...parsed, flags: fillFromUserConfig(parsed.flags, commandFlags, await loadUserConfig()) }
  }

  protected runtime(debug: boolean): Runtime {
    if (!this.#listening) {
      this.#listening = true
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)
      for (const name of STOP_SIGNALS) process.on(name, (signal) => this.#onSignal(signal))
    }
    // Every run keeps a debug-level log under ~/.ktx/logs (third-party output goes only there).
    this.#logFile ??= openLogFile(join(stateDir(), 'logs'))
    return {
      logger: this.#logFile ? teeLogger(stderrLogger(debug), this.#logFile.logger) : stderrLogger(debug),
      onEvent: (event) => {
        // `ktx status` shows a healing tunnel as degraded.
        if (event.type === 'tunnel.degraded' || event.type === 'tunnel.restored') {
          this.#register
            ?.setState(event.type === 'tunnel.degraded' ? 'degraded' : 'ready')
            .catch(() => undefined)
        }
        const line = renderEvent(event, debug)
        if (line !== undefined) process.stderr.write(`${line}\n`)
      },
      signal: this.#abort.signal,
      hurry: this.#hurry.signal,
    }
  }

  #onSignal(signal: NodeJS.Signals): void {
    this.#signals += 1
    if (this.#signals === 1) {
      say(`${signal}: disconnecting … (press Ctrl+C again to skip the waits; everything is still put back)`)
      if (this.#session) {
        this.#register?.setState('closing').catch(() => undefined)
        this.#session.close().catch(() => undefined)
      } else {
        this.#abort.abort(new Interrupted(signal))
      }
      return
    }
    if (this.#signals === 2) {
      say(`${signal}: putting everything back without waiting for it to settle …`)
      this.#hurried = signal
      this.#hurry.abort(new Interrupted(signal))
      this.#session?.hurry().catch(() => undefined)
      return
    }
    say(`${signal}: still putting back what ktx changed (kill -9 would leave it to \`ktx clean\`)`)
  }

  /** Waits until the session ends; a lost tunnel or an incomplete cleanup becomes the command's error. */
  protected async hold(session: Session): Promise<void> {
    this.#session = session
    // `ktx status` lists it while it runs; the record goes when the session ends.
    try {
      this.#register = await trackLocalSession(session, { stateDir: stateDir() })
    } catch (error) {
      this.#logFile?.logger.warn('Could not register the session for ktx status', { error: messageOf(error) })
    }
    const end = await session.ended
    await this.#register?.close().catch(() => undefined)
    if (end.reason === 'failed' || end.error !== undefined) throw end.error
    say('Disconnected; everything ktx created was removed.')
    // A hurried close did every undo but did not see them settle: not a clean exit.
    if (this.#hurried) throw new Interrupted(this.#hurried)
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    // oclif's own errors (bad flags, this.exit) keep oclif's rendering and exit codes.
    if (error instanceof Errors.CLIError) return super.catch(error)
    const { lines, exitCode } = renderError(error)
    const detailed = !isKtxError(error) || ['cluster', 'network', 'host', 'cleanup'].includes(error.category)
    if (this.#logFile && detailed) {
      this.#logFile.logger.error('Command failed', { error })
      lines.push(`Details: ${this.#logFile.path}`)
    }
    process.stderr.write(`${lines.join('\n')}\n`)
    this.exit(exitCode)
  }
}

function say(line: string): void {
  process.stderr.write(`${line}\n`)
}
