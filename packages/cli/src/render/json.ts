import type { Session } from '@ktx/core'
import { isKtxError, messageOf } from '@ktx/core/local'
import { type Cidr, formatCidr } from '@ktx/core/net'

import type { ErrorReport } from './error.js'
import type { AnyEvent } from './events.js'

/*
 * `--json`: stdout carries only NDJSON, one object a line, each with a `type`. Progress events keep
 * core's own `type` (`step.start`, `tunnel.degraded`, …) plus `at`; the command's outcome is one
 * `{"type":"result"}` line (for a session: when it is ready, then its later events and a final
 * `{"type":"ended"}`) or one `{"type":"error"}` line. Human text still goes to stderr.
 */

/** One event as a JSON line: errors become `{code?, message}`; `at` is when it was seen. */
export function eventJson(event: AnyEvent, at: Date): string {
  return line({ ...event, at: at.toISOString() })
}

/** The command's result line. */
export function resultJson(command: string, result: unknown): string {
  return line({ type: 'result', command, result })
}

/** A session's end (after its result line): how it ended. */
export function endedJson(command: string, reason: string): string {
  return line({ type: 'ended', command, reason })
}

/** The error line, with everything "Error (CODE)" and "Try this:" say, the exit code and the log. */
export function errorJson(command: string, error: ErrorReport, logPath?: string): string {
  return line({
    type: 'error',
    command,
    code: error.code,
    category: error.category,
    message: error.message,
    suggestions: error.suggestions,
    data: error.data,
    exitCode: error.exitCode,
    ...(logPath === undefined ? {} : { log: logPath }),
  })
}

/** A ready session for `--json`: id, kind, namespace and state, then the verb's own `keys`. */
export function sessionJson<S extends Session>(
  session: S,
  keys: readonly (keyof S & string)[],
): Record<string, unknown> {
  const picked: Record<string, unknown> = {
    id: session.id,
    kind: session.kind,
    namespace: session.namespace,
    state: session.state,
  }
  for (const key of keys) picked[key] = session[key]
  return picked
}

function line(value: Record<string, unknown>): string {
  return JSON.stringify(value, replacer)
}

// Errors, CIDRs (a bigint base), bigints and Sets have no JSON form of their own.
function replacer(_key: string, value: unknown): unknown {
  if (isCidr(value)) return formatCidr(value)
  if (value instanceof Error) {
    return isKtxError(value) ? { code: value.code, message: value.message } : { message: messageOf(value) }
  }
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Set) return [...(value as Set<unknown>)]
  return value
}

function isCidr(value: unknown): value is Cidr {
  return typeof value === 'object' && value !== null && 'base' in value && typeof value.base === 'bigint'
}
