/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>

/**
 * What core logs through. Core never writes to stdout/stderr itself; the CLI (or a library user)
 * passes an implementation. Fields carry `session`, `step` and `component` bindings.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger
}

/** The default logger: drops everything. */
export const noopLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => noopLogger,
})
