import { connect as netConnect } from 'node:net'
import { Duplex } from 'node:stream'

import { noopLogger } from '@ktx/core'
import {
  type Dialer,
  type HttpProxyServer,
  type Socks5Server,
  basicAuthorization,
  socks5Connect,
  startHttpProxy,
  startSocks5,
} from '@ktx/core/tunnel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Both proxies with credentials over loopback; the "cluster" is a dialer that answers every dial
// with a stream that echoes what it gets, so a working CONNECT is visible byte for byte.
const credentials = { username: 'ktx', password: 'correct horse' }
let dials = 0
const dialer: Dialer = {
  dial: () => {
    dials += 1
    const echo = new Duplex({
      read() {
        // Bytes are pushed as they are written.
      },
      write(chunk, _encoding, done) {
        this.push(chunk)
        done()
      },
    })
    return Promise.resolve(echo)
  },
}
let socks: Socks5Server
let http: HttpProxyServer

beforeAll(async () => {
  socks = await startSocks5({ dialer, credentials, logger: noopLogger })
  http = await startHttpProxy({ dialer, credentials, logger: noopLogger })
})

afterAll(async () => {
  await socks.close()
  await http.close()
})

function roundTrip(socket: NodeJS.ReadWriteStream, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString()))
    socket.write(text)
  })
}

// Raw bytes in, everything the proxy answers until it closes.
function exchangeRaw(port: number, bytes: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks)))
    socket.write(bytes)
  })
}

describe('SOCKS5 with username/password (RFC 1929)', () => {
  it('carries a connection for the right credentials', async () => {
    const socket = await socks5Connect({
      proxyHost: '127.0.0.1',
      proxyPort: socks.port,
      host: 'web',
      port: 80,
      credentials,
    })
    expect(await roundTrip(socket, 'ping')).toBe('ping')
    socket.destroy()
  })

  it('refuses a wrong password before any dial', async () => {
    const before = dials
    await expect(
      socks5Connect({
        proxyHost: '127.0.0.1',
        proxyPort: socks.port,
        host: 'web',
        port: 80,
        credentials: { username: 'ktx', password: 'wrong' },
      }),
    ).rejects.toThrow('refused the username/password')
    expect(dials).toBe(before)
  })

  it('refuses a client that offers no authentication (method 0xff)', async () => {
    const before = dials
    await expect(
      socks5Connect({ proxyHost: '127.0.0.1', proxyPort: socks.port, host: 'web', port: 80 }),
    ).rejects.toThrow('refused the no-auth method')
    expect([...(await exchangeRaw(socks.port, Buffer.from([5, 1, 0])))]).toEqual([5, 0xff])
    expect(dials).toBe(before)
  })
})

describe('HTTP proxy with Proxy-Authorization: Basic', () => {
  it('answers 407 to CONNECT and to plain requests without the credentials', async () => {
    const connect = (
      await exchangeRaw(http.port, 'CONNECT web:80 HTTP/1.1\r\nHost: web:80\r\n\r\n')
    ).toString()
    expect(connect).toMatch(/^HTTP\/1\.1 407 /)
    expect(connect).toContain('Proxy-Authenticate: Basic realm="ktx"')
    const plain = (
      await exchangeRaw(http.port, 'GET http://web/ HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n')
    ).toString()
    expect(plain).toMatch(/^HTTP\/1\.1 407 /)
    const wrong = basicAuthorization({ username: 'ktx', password: 'nope' })
    const refused = (
      await exchangeRaw(
        http.port,
        `CONNECT web:80 HTTP/1.1\r\nHost: web:80\r\nProxy-Authorization: ${wrong}\r\n\r\n`,
      )
    ).toString()
    expect(refused).toMatch(/^HTTP\/1\.1 407 /)
  })

  it('tunnels CONNECT with the right credentials', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: http.port })
    const established = await roundTrip(
      socket,
      `CONNECT web:80 HTTP/1.1\r\nHost: web:80\r\nProxy-Authorization: ${basicAuthorization(credentials)}\r\n\r\n`,
    )
    expect(established).toMatch(/^HTTP\/1\.1 200 /)
    expect(await roundTrip(socket, 'ping')).toBe('ping')
    socket.destroy()
  })
})
