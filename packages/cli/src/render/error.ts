import { Errors } from '@oclif/core'
import { exitCodeFor, isKtxError, messageOf } from '@ktx/core/local'

/** Exit code for an interrupted run (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130

/** Exit code of a flag or argument oclif refused (oclif's own, kept). */
export const EXIT_USAGE = 2

/** Marks an abort caused by Ctrl+C / SIGTERM, so it renders as "Interrupted" and exits 130. */
export class Interrupted extends Error {
  constructor(signal: string) {
    super(`Interrupted by ${signal}`)
    this.name = 'Interrupted'
  }
}

/**
 * An error as the user sees it, human or JSON. Core's errors keep their code and category; the CLI
 * adds three codes of its own: `KTX_USAGE` (a flag or argument oclif refused), `KTX_INTERRUPTED`
 * and `KTX_INTERNAL` (anything that is not a ktx error: a bug).
 */
export interface ErrorReport {
  readonly code: string
  readonly category: string
  readonly message: string
  readonly suggestions: readonly string[]
  readonly data: Readonly<Record<string, unknown>>
  readonly exitCode: number
}

/** What to tell the user about `error`; `help` is the command's `--help` line for usage errors. */
export function describeError(error: unknown, help = 'ktx --help'): ErrorReport {
  if (error instanceof Interrupted) {
    return report('KTX_INTERRUPTED', 'interrupted', error.message, [], EXIT_INTERRUPTED)
  }
  if (isKtxError(error)) {
    return {
      ...report(error.code, error.category, error.message, error.suggestions, exitCodeFor(error)),
      data: error.data,
    }
  }
  if (error instanceof Errors.CLIError) {
    // oclif's parse errors end with its own "See more help with --help"; ours says it once.
    const message = error.message.replace(/\n\s*See more help with --help\s*$/, '')
    return report(
      'KTX_USAGE',
      'usage',
      message,
      [...(error.suggestions ?? []), help],
      error.oclif.exit ?? EXIT_USAGE,
    )
  }
  return report(
    'KTX_INTERNAL',
    'internal',
    messageOf(error),
    ['This looks like a bug in ktx; please report it with the log file below and the output of --debug.'],
    1,
  )
}

/** The lines (for stderr): `Error (CODE): message`, "Try this:" with one suggestion a line, the log. */
export function renderError(error: ErrorReport, logPath?: string): string[] {
  const lines =
    error.code === 'KTX_INTERRUPTED' ? [error.message] : [`Error (${error.code}): ${error.message}`]
  if (error.suggestions.length > 0) lines.push('Try this:', ...error.suggestions.map((s) => `  ${s}`))
  if (logPath !== undefined) lines.push(`Details: ${logPath}`)
  return lines
}

function report(
  code: string,
  category: string,
  message: string,
  suggestions: readonly string[],
  exitCode: number,
): ErrorReport {
  return { code, category, message, suggestions, data: {}, exitCode }
}
