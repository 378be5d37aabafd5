import { messageOf } from '@ktx/core/local'

import { boxSummary } from './box.js'
import { type ErrorReport, renderError } from './error.js'
import { type AnyEvent, isKnownEvent, renderEvent, stepText } from './events.js'
import { formatElapsed } from './format.js'
import { endedJson, errorJson, eventJson, resultJson } from './json.js'
import { type TtyStream, TtyProgress } from './tty-progress.js'

/**
 * Where a command's words go. Three forms: `tty` (stderr is a terminal: a live step list, the ready
 * summary boxed), `plain` (one line per step, for logs and pipes) and `json` (`--json`: NDJSON on
 * stdout). Human notes (warnings, signal notices) always go to stderr.
 */
export interface Output {
  readonly kind: 'tty' | 'plain' | 'json'
  /** A progress event from core. */
  event(event: AnyEvent): void
  /** A line for the person at the terminal (stderr), kept clear of the live step list. */
  note(line: string): void
  /**
   * The command's outcome: `value` for `--json`, `lines` for people. `summary`: the lines are a
   * session's ready summary (boxed on a terminal).
   */
  result(command: string, value: unknown, lines: readonly string[], options?: { summary?: boolean }): void
  /** A held session ended (`--json` says so; people were told by a note). */
  ended(command: string, reason: string): void
  error(command: string, error: ErrorReport, logPath?: string): void
  /** Stops any spinner. */
  stop(): void
}

export interface OutputStreams {
  readonly stdout: TtyStream & { readonly isTTY?: boolean }
  readonly stderr: TtyStream & { readonly isTTY?: boolean }
}

/** `--json` wins; else a live list when stderr is a terminal that can redraw (not `TERM=dumb`). */
export function pickOutputKind(
  json: boolean,
  streams: OutputStreams,
  env: NodeJS.ProcessEnv,
): Output['kind'] {
  if (json) return 'json'
  return streams.stderr.isTTY === true && env.TERM !== 'dumb' ? 'tty' : 'plain'
}

export function createOutput(
  kind: Output['kind'],
  streams: OutputStreams,
  options: { debug: boolean; now?: () => number },
): Output {
  if (kind === 'json') return jsonOutput(streams, options.now ?? Date.now)
  if (kind === 'tty') return ttyOutput(streams, options)
  return plainOutput(streams, options.debug)
}

function plainOutput({ stdout, stderr }: OutputStreams, debug: boolean): Output {
  return {
    kind: 'plain',
    event: (event) => {
      const line = renderEvent(event, debug)
      if (line !== undefined) stderr.write(`${line}\n`)
    },
    note: (line) => stderr.write(`${line}\n`),
    result: (_command, _value, lines) => {
      if (lines.length > 0) stdout.write(`${lines.join('\n')}\n`)
    },
    ended: () => undefined,
    error: (_command, error, logPath) => stderr.write(`${renderError(error, logPath).join('\n')}\n`),
    stop: () => undefined,
  }
}

function jsonOutput({ stdout, stderr }: OutputStreams, now: () => number): Output {
  return {
    kind: 'json',
    event: (event) => stdout.write(`${eventJson(event, new Date(now()))}\n`),
    note: (line) => stderr.write(`${line}\n`),
    result: (command, value) => stdout.write(`${resultJson(command, value)}\n`),
    ended: (command, reason) => stdout.write(`${endedJson(command, reason)}\n`),
    error: (command, error, logPath) => stdout.write(`${errorJson(command, error, logPath)}\n`),
    stop: () => undefined,
  }
}

function ttyOutput(
  { stdout, stderr }: OutputStreams,
  options: { debug: boolean; now?: () => number },
): Output {
  const progress = new TtyProgress(stderr, options.now ? { now: options.now } : {})
  const event = (e: AnyEvent): void => {
    if (!isKnownEvent(e)) {
      progress.line(renderEvent(e, options.debug) ?? e.type)
      return
    }
    switch (e.type) {
      case 'step.start':
        progress.start(e.step, stepText(e.step, e.detail))
        return
      case 'step.done': {
        if (e.step !== 'ready') {
          progress.finish(e.step, '✓')
          return
        }
        const total = progress.elapsedMs
        progress.line(`✓ Ready${total === undefined ? '' : ` in ${formatElapsed(total)}`}`)
        return
      }
      case 'step.fail':
        progress.finish(e.step, '✗')
        return
      // The session's state on a terminal: a spinner while the tunnel heals, a ✓ once it has.
      case 'tunnel.degraded':
        progress.start('tunnel', `Degraded: tunnel down (${messageOf(e.error)}), reconnecting`)
        return
      case 'tunnel.restored':
        progress.finish(
          'tunnel',
          '✓',
          `Ready again: tunnel restored${e.replaced ? ` over a new shadow pod (${e.pod})` : ''}`,
          e.downMs,
        )
        return
      default: {
        const line = renderEvent(e, options.debug)
        if (line !== undefined) progress.line(line)
      }
    }
  }
  return {
    kind: 'tty',
    event,
    note: (line) => progress.line(line),
    result: (_command, _value, lines, { summary = false } = {}) => {
      if (lines.length === 0) return
      const shown = summary && stdout.isTTY === true ? boxSummary(lines) : lines
      progress.line(shown.join('\n'), stdout)
    },
    ended: () => undefined,
    error: (_command, error, logPath) => {
      progress.stop()
      stderr.write(`${renderError(error, logPath).join('\n')}\n`)
    },
    stop: () => progress.stop(),
  }
}
