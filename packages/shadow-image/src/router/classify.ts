/** What a connection speaks, judged from its first bytes. */
export type Protocol = 'http1' | 'h2' | 'raw'

/** The HTTP/2 connection preface a prior-knowledge client sends first (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/** Longest request line the router waits for before calling the connection raw. */
export const MAX_REQUEST_LINE = 8 * 1024

/**
 * Classifies a connection from the bytes it sent so far: `h2` (the HTTP/2 preface), `http1` (an
 * HTTP/1.x request line `METHOD target HTTP/1.x`), `raw` (anything else), or `undefined` while the
 * bytes could still become either HTTP form. Garbage is judged at its first byte that cannot be
 * HTTP, so it never waits.
 */
export function classify(head: Buffer): Protocol | undefined {
  const prefix = Math.min(head.length, H2_PREFACE.length)
  if (head.subarray(0, prefix).equals(H2_PREFACE.subarray(0, prefix)))
    return head.length >= H2_PREFACE.length ? 'h2' : undefined
  const lineEnd = head.indexOf(0x0a)
  if (lineEnd === -1) {
    if (head.length >= MAX_REQUEST_LINE) return 'raw'
    return couldBeRequestLine(head.toString('latin1')) ? undefined : 'raw'
  }
  const line = head.subarray(0, lineEnd).toString('latin1')
  return /^[A-Z][A-Z_-]{0,19} [!-~]+ HTTP\/1\.[01]\r?$/.test(line) ? 'http1' : 'raw'
}

/** True while `text` (no newline yet) is a prefix of some HTTP/1.x request line. */
function couldBeRequestLine(text: string): boolean {
  if (/^[A-Z][A-Z_-]{0,19}$/.test(text) || text === '') return true
  if (/^[A-Z][A-Z_-]{0,19} [!-~]*$/.test(text)) return true
  const match = /^[A-Z][A-Z_-]{0,19} [!-~]+ (.*)$/s.exec(text)
  if (!match) return false
  const version = match[1] ?? ''
  return 'HTTP/1.1\r'.startsWith(version) || 'HTTP/1.0\r'.startsWith(version)
}
