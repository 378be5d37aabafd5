import { type Socket, connect as netConnect, isIPv4, isIPv6 } from 'node:net'

import { DialError } from './dialer.js'
import type { ProxyCredentials } from './proxy-auth.js'
import { METHOD_NO_AUTH, METHOD_USER_PASS, Reply, encodeUserPass } from './socks5-protocol.js'

/** Options of {@link socks5Connect}. */
export interface Socks5ConnectOptions {
  readonly proxyHost: string
  readonly proxyPort: number
  /** Target host: an IP, or a name the proxy resolves. */
  readonly host: string
  readonly port: number
  /** Username/password (RFC 1929) when the proxy requires them. */
  readonly credentials?: ProxyCredentials
  readonly signal?: AbortSignal
}

const REPLY_CODES: Readonly<Record<number, string>> = {
  [Reply.generalFailure]: 'EPROTO',
  [Reply.notAllowed]: 'EACCES',
  [Reply.networkUnreachable]: 'ENETUNREACH',
  [Reply.hostUnreachable]: 'EHOSTUNREACH',
  [Reply.connectionRefused]: 'ECONNREFUSED',
  [Reply.ttlExpired]: 'ETIMEDOUT',
}

/**
 * Opens a TCP connection to `host:port` through a SOCKS5 proxy (no auth, or username/password
 * when `credentials` are given; names go to the proxy unresolved) and resolves with the connected socket, ready for application bytes.
 * @throws DialError whose `code` mirrors the proxy's reply (ECONNREFUSED, EHOSTUNREACH, …).
 */
export function socks5Connect(options: Socks5ConnectOptions): Promise<Socket> {
  const { host, port } = options
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host: options.proxyHost, port: options.proxyPort, noDelay: true })
    let buffer = Buffer.alloc(0)
    let stage: 'method' | 'auth' | 'reply' = 'method'
    const method = options.credentials ? METHOD_USER_PASS : METHOD_NO_AUTH
    // Thrown inside the socket's listener it would be uncaught and leave this promise pending.
    const writeConnect = (): void => {
      try {
        socket.write(encodeConnect(host, port))
      } catch (error) {
        fail(error as Error)
      }
    }
    const fail = (error: Error): void => {
      socket.destroy()
      options.signal?.removeEventListener('abort', onAbort)
      reject(error)
    }
    const onAbort = (): void => {
      fail(options.signal?.reason as Error)
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('error', fail)
    socket.once('connect', () => {
      socket.write(Buffer.from([5, 1, method]))
    })
    // 'readable' + read() instead of 'data': a 'data' listener would switch the socket to flowing
    // mode for good, and bytes arriving right after the reply would be emitted before the caller
    // attached its own listener. Removing the 'readable' listener leaves the socket paused.
    const onReadable = (): void => {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        buffer = Buffer.concat([buffer, chunk])
      }
      if (stage === 'method') {
        if (buffer.length < 2) return
        if (buffer[1] !== method) {
          const what = options.credentials ? 'username/password' : 'no-auth'
          fail(new DialError(`SOCKS5 proxy refused the ${what} method`, 'EACCES'))
          return
        }
        buffer = buffer.subarray(2)
        if (options.credentials) {
          stage = 'auth'
          socket.write(encodeUserPass(options.credentials.username, options.credentials.password))
        } else {
          stage = 'reply'
          writeConnect()
        }
      }
      if (stage === 'auth') {
        if (buffer.length < 2) return
        if (buffer[1] !== 0) {
          fail(new DialError('SOCKS5 proxy refused the username/password', 'EACCES'))
          return
        }
        buffer = buffer.subarray(2)
        stage = 'reply'
        writeConnect()
      }
      if (buffer.length < 5) return
      const atyp = buffer[3]
      const length = atyp === 1 ? 10 : atyp === 4 ? 22 : 7 + (buffer[4] ?? 0)
      if (buffer.length < length) return
      const code = buffer[1] ?? Reply.generalFailure
      if (code !== Reply.succeeded) {
        fail(
          new DialError(
            `SOCKS5 connect to ${host}:${port} failed (reply ${code})`,
            REPLY_CODES[code] ?? 'EPROTO',
          ),
        )
        return
      }
      socket.removeListener('readable', onReadable)
      socket.removeListener('error', fail)
      options.signal?.removeEventListener('abort', onAbort)
      const rest = buffer.subarray(length)
      if (rest.length > 0) socket.unshift(rest)
      resolve(socket)
    }
    socket.on('readable', onReadable)
  })
}

function encodeConnect(host: string, port: number): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff])
  if (isIPv4(host))
    return Buffer.concat([Buffer.from([5, 1, 0, 1, ...host.split('.').map(Number)]), portBytes])
  if (isIPv6(host)) return Buffer.concat([Buffer.from([5, 1, 0, 4]), ipv6Bytes(host), portBytes])
  const name = Buffer.from(host, 'utf8')
  if (name.length > 255) throw new DialError(`host name too long: ${host}`, 'EINVAL')
  return Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, portBytes])
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : []
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}
