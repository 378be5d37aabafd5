import { rmSync } from 'node:fs'
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
import { fillFromUserConfig, loadUserConfig, stateDir } from './user-config.js'
import { EXIT_INTERRUPTED, Interrupted, renderError } from './render/error.js'
import { renderEvent } from './render/events.js'

// oclif's FlagOutput / ArgOutput, which it does not export.
type Parsed = Record<string, unknown>

/** What a command hands to core: logger, progress renderer and an abort signal tied to Ctrl+C. */
export interface Runtime {
  readonly logger: Logger
  readonly onEvent: (event: SessionEvent) => void
  readonly signal: AbortSignal
}

/**
 * The one funnel of every ktx command: builds the runtime, holds a session until it ends, maps
 * signals (first SIGINT/SIGTERM: graceful close; second: destroy and exit 130) and renders errors
 * as `Error (CODE): message` plus "Try this:" with an exit code by category.
 */
export abstract class KtxCommand extends Command {
  #session: Session | undefined
  #signals = 0
  readonly #abort = new AbortController()
  #logFile: LogFile | undefined
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
    const onSignal = (signal: NodeJS.Signals): void => {
      this.#signals += 1
      if (this.#signals === 1) {
        if (this.#session) {
          process.stderr.write('Disconnecting … (press Ctrl+C again to force)\n')
          this.#register?.setState('closing').catch(() => undefined)
          this.#session.close().catch(() => undefined)
        } else {
          this.#abort.abort(new Interrupted(signal))
        }
        return
      }
      this.#session?.destroy(new Interrupted(signal))
      if (this.#register) rmSync(this.#register.path, { force: true })
      process.exit(EXIT_INTERRUPTED)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // Every run keeps a debug-level log under ~/.ktx/logs (third-party output goes only there).
    this.#logFile ??= openLogFile(join(stateDir(), 'logs'))
    return {
      logger: this.#logFile ? teeLogger(stderrLogger(debug), this.#logFile.logger) : stderrLogger(debug),
      onEvent: (event) => {
        const line = renderEvent(event, debug)
        if (line !== undefined) process.stderr.write(`${line}\n`)
      },
      signal: this.#abort.signal,
    }
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
    process.stderr.write('Disconnected; everything ktx created was removed.\n')
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
