import { randomBytes } from 'node:crypto'

import { UsageError } from '../../errors.js'

/** The header (and, in manual mode, the pod label) that marks a developer's own requests. */
export interface VersionMark {
  /** Header name as given (matched case-insensitively); lower-cased it is the label key. */
  readonly header: string
  readonly value: string
}

/** ktctl's default header. */
export const DEFAULT_MARK_HEADER = 'version'

// A label value (so manual mode can put it on the pod) that is also a header value.
const VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/
// A label name without prefix (so manual mode can use it as the key) that is also a header name.
const HEADER = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/

/** A random mark value: 8 lower-case hex characters, as ktctl's random marks. */
export function randomMarkValue(): string {
  return randomBytes(4).toString('hex')
}

/**
 * Parses `--versionMark` as ktctl does: `val` (header `version: val`), `key:val`, `key:` (a random
 * value); absent, a random value under `version`.
 * @throws UsageError `KTX_OPTION_INVALID` naming what is wrong with it.
 */
export function parseVersionMark(text: string | undefined, random = randomMarkValue): VersionMark {
  if (text === undefined || text.trim() === '') return { header: DEFAULT_MARK_HEADER, value: random() }
  const colon = text.indexOf(':')
  const header = colon < 0 ? DEFAULT_MARK_HEADER : text.slice(0, colon).trim()
  const given = colon < 0 ? text.trim() : text.slice(colon + 1).trim()
  const value = given === '' ? random() : given
  if (!HEADER.test(header)) throw invalid(text, `"${header}" is not a usable header name`)
  if (!VALUE.test(value)) throw invalid(text, `"${value}" is not a usable mark value`)
  return { header, value }
}

function invalid(text: string, why: string): UsageError {
  return new UsageError(`--versionMark "${text}": ${why}`, {
    suggestions: [
      'Use `val` (header VERSION: val), `key:val`, or `key:` for a random value.',
      'Keys and values: letters, digits, "-", "_" and ".", at most 63 characters, starting and ending alphanumeric.',
    ],
  })
}
