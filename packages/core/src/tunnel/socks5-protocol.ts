/**
 * SOCKS5 (RFC 1928) message parsing and replies, pure. Only what ktx serves: no authentication,
 * CONNECT, with IPv4, IPv6 or domain-name targets (domain names are passed on unresolved).
 */
import { formatAddress } from '../net/cidr.js'

export const SOCKS_VERSION = 5
export const METHOD_NO_AUTH = 0x00
/** Username/password (RFC 1929). */
export const METHOD_USER_PASS = 0x02
/** The RFC 1929 sub-negotiation's version byte. */
export const USER_PASS_VERSION = 0x01
export const METHOD_NONE_ACCEPTABLE = 0xff
export const CMD_CONNECT = 0x01

/** Reply codes (`REP`). */
export const Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const
export type ReplyCode = (typeof Reply)[keyof typeof Reply]

/** Result of a parse over a buffer that may hold only part of a message. */
export type Parsed<T> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string; readonly reply?: ReplyCode }
  | ({ readonly kind: 'ok'; readonly consumed: number } & T)

/** Parses the greeting `VER NMETHODS METHODS…`. */
export function parseGreeting(buf: Buffer): Parsed<{ readonly methods: readonly number[] }> {
  if (buf.length < 2) return { kind: 'incomplete' }
  if (buf[0] !== SOCKS_VERSION)
    return { kind: 'invalid', reason: `not SOCKS5 (version byte ${String(buf[0])})` }
  const count = buf[1] ?? 0
  if (buf.length < 2 + count) return { kind: 'incomplete' }
  return { kind: 'ok', consumed: 2 + count, methods: [...buf.subarray(2, 2 + count)] }
}

/** Parses the RFC 1929 request `VER ULEN UNAME PLEN PASSWD`. */
export function parseUserPass(buf: Buffer): Parsed<{ readonly username: string; readonly password: string }> {
  if (buf.length < 2) return { kind: 'incomplete' }
  if (buf[0] !== USER_PASS_VERSION)
    return { kind: 'invalid', reason: `not RFC 1929 (version byte ${String(buf[0])})` }
  const userLength = buf[1] ?? 0
  if (buf.length < 3 + userLength) return { kind: 'incomplete' }
  const passLength = buf[2 + userLength] ?? 0
  const end = 3 + userLength + passLength
  if (buf.length < end) return { kind: 'incomplete' }
  return {
    kind: 'ok',
    consumed: end,
    username: buf.subarray(2, 2 + userLength).toString('utf8'),
    password: buf.subarray(3 + userLength, end).toString('utf8'),
  }
}

/** Encodes the RFC 1929 request (client side). */
export function encodeUserPass(username: string, password: string): Buffer {
  const user = Buffer.from(username, 'utf8')
  const pass = Buffer.from(password, 'utf8')
  return Buffer.concat([
    Buffer.from([USER_PASS_VERSION, user.length]),
    user,
    Buffer.from([pass.length]),
    pass,
  ])
}

/** A parsed request: the command and target. `host` is an IP literal or an unresolved name. */
export interface SocksRequest {
  readonly command: number
  readonly host: string
  readonly port: number
  readonly addressType: 'ipv4' | 'ipv6' | 'domain'
}

/** Parses `VER CMD RSV ATYP DST.ADDR DST.PORT`. Bad commands/address types carry the reply to send. */
export function parseRequest(buf: Buffer): Parsed<SocksRequest> {
  if (buf.length < 5) return { kind: 'incomplete' }
  if (buf[0] !== SOCKS_VERSION)
    return { kind: 'invalid', reason: 'bad version in request', reply: Reply.generalFailure }
  const command = buf[1] ?? 0
  const atyp = buf[3]
  let host: string
  let offset: number
  let addressType: SocksRequest['addressType']
  switch (atyp) {
    case 0x01:
      if (buf.length < 10) return { kind: 'incomplete' }
      host = [...buf.subarray(4, 8)].join('.')
      offset = 8
      addressType = 'ipv4'
      break
    case 0x03: {
      const length = buf[4] ?? 0
      if (buf.length < 5 + length + 2) return { kind: 'incomplete' }
      if (length === 0) return { kind: 'invalid', reason: 'empty domain name', reply: Reply.hostUnreachable }
      host = buf.subarray(5, 5 + length).toString('utf8')
      offset = 5 + length
      addressType = 'domain'
      break
    }
    case 0x04:
      if (buf.length < 22) return { kind: 'incomplete' }
      host = formatAddress(6, BigInt(`0x${buf.subarray(4, 20).toString('hex')}`))
      offset = 20
      addressType = 'ipv6'
      break
    default:
      return { kind: 'invalid', reason: `address type ${String(atyp)}`, reply: Reply.addressTypeNotSupported }
  }
  const port = buf.readUInt16BE(offset)
  if (command !== CMD_CONNECT) {
    return { kind: 'invalid', reason: `command ${command} not supported`, reply: Reply.commandNotSupported }
  }
  return { kind: 'ok', consumed: offset + 2, command, host, port, addressType }
}

/** A reply with an all-zero IPv4 bound address (clients of a tunnel have no use for it). */
export function encodeReply(code: ReplyCode): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0])
}

/** Picks the reply for a failed connect from the remote error code (ECONNREFUSED → 5, …). */
export function replyForError(code: string | undefined): ReplyCode {
  switch (code) {
    case 'ECONNREFUSED':
      return Reply.connectionRefused
    case 'ENETUNREACH':
      return Reply.networkUnreachable
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'ETIMEDOUT':
      return Reply.hostUnreachable
    case 'EACCES':
    case 'EPERM':
      return Reply.notAllowed
    default:
      return Reply.generalFailure
  }
}
