import { exitCodeFor, isKtxError, messageOf } from '@ktx/core'

/** Exit code for an interrupted run (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130

/** Marks an abort caused by Ctrl+C / SIGTERM, so it renders as "Interrupted" and exits 130. */
export class Interrupted extends Error {
  constructor(signal: string) {
    super(`Interrupted by ${signal}`)
    this.name = 'Interrupted'
  }
}

/** The lines (for stderr) and exit code for an error: `Error (CODE): message` and "Try this:". */
export function renderError(error: unknown): { lines: string[]; exitCode: number } {
  if (error instanceof Interrupted) return { lines: [error.message], exitCode: EXIT_INTERRUPTED }
  if (isKtxError(error)) {
    const lines = [`Error (${error.code}): ${error.message}`]
    if (error.suggestions.length > 0) lines.push('Try this:', ...error.suggestions.map((s) => `  ${s}`))
    return { lines, exitCode: exitCodeFor(error) }
  }
  return {
    lines: [
      `Error: ${messageOf(error)}`,
      'This looks like a bug in ktx; please report it with the output of --debug.',
    ],
    exitCode: 1,
  }
}
