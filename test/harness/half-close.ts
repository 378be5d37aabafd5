/**
 * A request-then-large-reply exchange for the e2e half-close checks, as plain Node scripts (run
 * with `node -e` in a pod, or in the laptop namespace): the server reads the request until the
 * client's FIN, then answers the request's SHA-256 and `size` pattern bytes; the client sends,
 * shuts its write side, reads until the end and prints what it got.
 */
import { createHash } from 'node:crypto'

/** What the client prints (one JSON line). */
export interface HalfCloseResult {
  readonly length: number
  readonly sha256: string
}

/** The reply the server sends to `request` with `size` pattern bytes, digested as the client does. */
export function expectedReply(request: string, size: number): HalfCloseResult {
  const head = Buffer.from(createHash('sha256').update(request).digest('hex'))
  const body = Buffer.alloc(size)
  for (let i = 0; i < size; i++) body[i] = i % 251
  const whole = Buffer.concat([head, body])
  return { length: whole.length, sha256: createHash('sha256').update(whole).digest('hex') }
}

/** A server on `port` (0.0.0.0) that prints `listening` once bound. */
export function halfCloseServerScript(port: number, size: number): string {
  return `
const net = require('node:net'), crypto = require('node:crypto')
const body = Buffer.alloc(${size}); for (let i = 0; i < body.length; i++) body[i] = i % 251
net.createServer({ allowHalfOpen: true }, (s) => {
  const h = crypto.createHash('sha256')
  s.on('data', (d) => h.update(d)).on('error', () => {})
  s.once('end', () => { s.write(h.digest('hex')); s.end(body) })
}).listen(${port}, '0.0.0.0', () => console.log('listening'))
`
}

/**
 * A client of `host:port`, directly or through a SOCKS5 proxy on 127.0.0.1:`socksPort` (its own
 * few lines of RFC 1928, so nothing of ktx is on the client side).
 */
export function halfCloseClientScript(
  host: string,
  port: number,
  request: string,
  socksPort?: number,
): string {
  return `
const net = require('node:net'), crypto = require('node:crypto')
const target = { host: ${JSON.stringify(host)}, port: ${port} }, socksPort = ${socksPort ?? 'undefined'}
const s = net.connect({ host: socksPort ? '127.0.0.1' : target.host, port: socksPort ?? target.port, allowHalfOpen: true })
const h = crypto.createHash('sha256'); let length = 0
const talk = () => {
  s.on('data', (d) => { h.update(d); length += d.length })
  s.once('end', () => { console.log(JSON.stringify({ length, sha256: h.digest('hex') })); s.destroy() })
  s.end(${JSON.stringify(request)})
}
s.on('error', (e) => { console.error(e.message); process.exit(2) })
s.once('connect', () => {
  if (!socksPort) return talk()
  s.write(Buffer.from([5, 1, 0]))
  let buf = Buffer.alloc(0), stage = 0
  const onData = (d) => {
    buf = Buffer.concat([buf, d])
    if (stage === 0 && buf.length >= 2) {
      buf = buf.subarray(2); stage = 1
      const name = Buffer.from(target.host)
      s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([target.port >> 8, target.port & 255])]))
    }
    if (stage === 1 && buf.length >= 10) {
      if (buf[1] !== 0) { console.error('socks reply ' + buf[1]); process.exit(3) }
      s.off('data', onData); talk()
    }
  }
  s.on('data', onData)
})
`
}
