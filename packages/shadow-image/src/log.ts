/** One JSON object per line on stderr: what `kubectl logs` shows for the shadow pod. */
export type AgentLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void

/** A logger that writes JSON lines to `write`; `debug` lines only when `verbose`. */
export function jsonLog(write: (line: string) => void, verbose: boolean): AgentLog {
  return (level, message, fields = {}) => {
    if (level === 'debug' && !verbose) return
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`)
  }
}

/** A logger that drops everything (tests). */
export const silentLog: AgentLog = () => undefined
