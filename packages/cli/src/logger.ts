import type { LogFields, Logger } from '@ktx/core'

/** A logger writing one line per message to stderr; debug lines only with --debug. */
export function stderrLogger(debug: boolean, bindings: LogFields = {}): Logger {
  const write = (level: string, message: string, fields?: LogFields): void => {
    const all = { ...bindings, ...fields }
    const extra = Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : ''
    process.stderr.write(`${level} ${message}${extra}\n`)
  }
  return {
    debug: (m, f) => {
      if (debug) write('debug', m, f)
    },
    info: (m, f) => {
      if (debug) write('info', m, f)
    },
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (more) => stderrLogger(debug, { ...bindings, ...more }),
  }
}
