import { mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

import type { LogFields, Logger } from '@ktx/core'

/**
 * A logger writing one line per message to `sink` (the terminal's stderr, through the progress
 * display so a live step list is not overwritten); debug and info lines only with --debug.
 */
export function stderrLogger(
  debug: boolean,
  sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  bindings: LogFields = {},
): Logger {
  const write = (level: string, message: string, fields?: LogFields): void => {
    const all = { ...bindings, ...fields }
    const extra = Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : ''
    sink(`${level} ${message}${extra}`)
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
    child: (more) => stderrLogger(debug, sink, { ...bindings, ...more }),
  }
}

/** A debug-level log file of one run. */
export interface LogFile {
  readonly path: string
  readonly logger: Logger
}

/**
 * Opens `<dir>/ktx-<time>-<pid>.log` for a debug-level JSON-lines log of this run (third-party
 * output such as tun2socks's goes only here) and keeps the newest `keep` files. Writes are
 * synchronous, so the lines before a crash are on disk. Returns undefined when the directory
 * cannot be written: logging must never stop ktx.
 */
export function openLogFile(dir: string, keep = 10): LogFile | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const old = readdirSync(dir)
      .filter((name) => /^ktx-.*\.log$/.test(name))
      .sort()
    for (const name of old.slice(0, Math.max(0, old.length - keep + 1)))
      rmSync(join(dir, name), { force: true })
    const path = join(dir, `ktx-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`)
    const fd = openSync(path, 'a', 0o600)
    const logger = (bindings: LogFields): Logger => {
      const write = (level: string, msg: string, fields?: LogFields): void => {
        const line = JSON.stringify(
          { t: new Date().toISOString(), level, msg, ...bindings, ...fields },
          replacer,
        )
        try {
          writeSync(fd, `${line}\n`)
        } catch {
          // A full disk must not take the session down.
        }
      }
      return {
        debug: (m, f) => write('debug', m, f),
        info: (m, f) => write('info', m, f),
        warn: (m, f) => write('warn', m, f),
        error: (m, f) => write('error', m, f),
        child: (more) => logger({ ...bindings, ...more }),
      }
    }
    return { path, logger: logger({}) }
  } catch {
    return undefined
  }
}

/** A logger that writes to each of `loggers`. */
export function teeLogger(...loggers: Logger[]): Logger {
  return {
    debug: (m, f) => loggers.forEach((l) => l.debug(m, f)),
    info: (m, f) => loggers.forEach((l) => l.info(m, f)),
    warn: (m, f) => loggers.forEach((l) => l.warn(m, f)),
    error: (m, f) => loggers.forEach((l) => l.error(m, f)),
    child: (bindings) => teeLogger(...loggers.map((l) => l.child(bindings))),
  }
}

// Errors and bigints have no useful JSON form of their own.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (typeof value === 'bigint') return value.toString()
  return value
}
