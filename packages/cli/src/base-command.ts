import { join } from 'node:path'

import { Command, Errors, Flags, type Interfaces } from '@oclif/core'
import type { LocalSessionFile, Logger, Session, SessionEvent } from '@ktx/core'
import { messageOf, trackLocalSession } from '@ktx/core/local'

import { type LogFile, openLogFile, stderrLogger, teeLogger } from './logger.js'
import { Interrupted, describeError } from './render/error.js'
import { type Output, createOutput, pickOutputKind } from './render/output.js'
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
  /** Every command's `--json` (oclif merges base flags into each command's own). */
  static override baseFlags = {
    json: Flags.boolean({
      description:
        'Print NDJSON on stdout: progress events, then one result object (or one error object with code, message and suggestions).',
      default: false,
    }),
  }

  #session: Session | undefined
  #json: boolean | undefined
  #debug = false
  #output: Output | undefined
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
    this.#json = parsed.flags.json === true
    this.#debug = parsed.flags.debug === true
    const commandFlags = options?.flags ?? {}
    return { ...parsed, flags: fillFromUserConfig(parsed.flags, commandFlags, await loadUserConfig()) }
  }

  /** Where this run's words go (made on first use: after parse it knows `--json`). */
  protected get output(): Output {
    // A parse that failed never set #json; the raw argv still says whether JSON was asked for.
    const json = this.#json ?? this.argv.includes('--json')
    const streams = { stdout: process.stdout, stderr: process.stderr }
    this.#output ??= createOutput(pickOutputKind(json, streams, process.env), streams, { debug: this.#debug })
    return this.#output
  }

  /** The command's outcome: `value` under `--json`, otherwise `lines` on stdout. */
  protected result(value: unknown, lines: readonly string[]): void {
    this.output.result(this.commandName, value, lines)
  }

  /** A session is ready: its summary (boxed on a terminal, `value` under `--json`), then hold it. */
  protected async ready(session: Session, value: unknown, lines: readonly string[]): Promise<void> {
    this.output.result(this.commandName, value, lines, { summary: true })
    await this.hold(session)
  }

  /** `exchange`, `config set`: the command as typed. */
  protected get commandName(): string {
    return (this.id ?? '').replaceAll(':', ' ')
  }

  protected runtime(debug: boolean): Runtime {
    if (!this.#listening) {
      this.#listening = true
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)
      for (const name of STOP_SIGNALS) process.on(name, (signal) => this.#onSignal(signal))
    }
    const logFile = this.#openLog()
    const output = this.output
    const console = stderrLogger(debug, (line) => output.note(line))
    return {
      logger: logFile ? teeLogger(console, logFile.logger) : console,
      onEvent: (event) => {
        // `ktx status` shows a healing tunnel as degraded.
        if (event.type === 'tunnel.degraded' || event.type === 'tunnel.restored') {
          this.#register
            ?.setState(event.type === 'tunnel.degraded' ? 'degraded' : 'ready')
            .catch(() => undefined)
        }
        output.event(event)
      },
      signal: this.#abort.signal,
      hurry: this.#hurry.signal,
    }
  }

  // Every run that does something keeps a debug-level log under ~/.ktx/logs (third-party output
  // goes only there), and every error names it.
  #openLog(): LogFile | undefined {
    this.#logFile ??= openLogFile(join(stateDir(), 'logs'))
    return this.#logFile
  }

  #say(line: string): void {
    this.output.note(line)
  }

  #onSignal(signal: NodeJS.Signals): void {
    this.#signals += 1
    if (this.#signals === 1) {
      this.#say(
        `${signal}: disconnecting … (press Ctrl+C again to skip the waits; everything is still put back)`,
      )
      if (this.#session) {
        this.#register?.setState('closing').catch(() => undefined)
        this.#session.close().catch(() => undefined)
      } else {
        this.#abort.abort(new Interrupted(signal))
      }
      return
    }
    if (this.#signals === 2) {
      this.#say(`${signal}: putting everything back without waiting for it to settle …`)
      this.#hurried = signal
      this.#hurry.abort(new Interrupted(signal))
      this.#session?.hurry().catch(() => undefined)
      return
    }
    this.#say(`${signal}: still putting back what ktx changed (kill -9 would leave it to \`ktx clean\`)`)
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
    this.output.stop()
    if (end.reason === 'failed' || end.error !== undefined) throw end.error
    this.output.ended(this.commandName, end.reason)
    this.#say('Disconnected; everything ktx created was removed.')
    // A hurried close did every undo but did not see them settle: not a clean exit.
    if (this.#hurried) throw new Interrupted(this.#hurried)
  }

  /**
   * Every failure, a refused flag included, as `Error (CODE): message`, "Try this:" and the log
   * file (or one JSON error object), with the exit code of its category.
   */
  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    // this.exit() and oclif's own exits are already decided.
    if (error instanceof Errors.ExitError) return super.catch(error)
    const help = [this.config.bin, this.commandName, '--help'].filter((part) => part !== '').join(' ')
    const report = describeError(error, help)
    const logFile = this.#openLog()
    logFile?.logger.error('Command failed', {
      error,
      code: report.code,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    })
    this.output.error(this.commandName, report, logFile?.path)
    this.exit(report.exitCode)
  }
}
