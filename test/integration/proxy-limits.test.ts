/**
 * The local proxies' limits over real loopback sockets: a client that never finishes its
 * handshake, or goes idle, loses its socket (and the upstream behind it); the HTTP proxy drops the
 * headers a message's `Connection:` names as hop-by-hop.
 */
import { type IncomingHttpHeaders, createServer as createHttpServer } from 'node:http'
import { type Server, type Socket, connect as netConnect, createServer } from 'node:net'

import { noopLogger } from '@ktx/core'
import { type Dialer, startHttpProxy, startSocks5 } from '@ktx/core/tunnel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let upstream: Server
let upstreamPort: number
const upstreamSockets = new Set<Socket>()
const dialer: Dialer = {
  dial: (host, port) =>
    new Promise((resolve, reject) => {
      const socket = netConnect({ host, port })
      socket.once('connect', () => resolve(socket))
      socket.once('error', reject)
    }),
}

beforeAll(async () => {
  // An echo server standing for the cluster; it remembers its open sockets.
  upstream = createServer((socket) => {
    upstreamSockets.add(socket)
    socket.on('close', () => upstreamSockets.delete(socket))
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  upstreamPort = (upstream.address() as { port: number }).port
})

afterAll(() => {
  upstream.close()
})

// Resolves with how long the socket stayed open (rejects after `withinMs`: it is still open).
function closedWithin(socket: Socket, withinMs: number): Promise<number> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${withinMs} ms`)), withinMs)
    socket.on('error', () => undefined)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(Date.now() - started)
    })
  })
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => resolve(socket))
  })
}

function read(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk])
      if (got.length < bytes) return
      socket.off('data', onData)
      resolve(got)
    }
    socket.on('data', onData)
  })
}

describe('SOCKS5 proxy limits', () => {
  it('closes a client that connects and never greets, or stops half-way', async () => {
    const socks = await startSocks5({ dialer, logger: noopLogger, handshakeTimeoutMs: 200 })
    try {
      const silent = await open(socks.port)
      expect(await closedWithin(silent, 3_000)).toBeGreaterThanOrEqual(150)
      const halfway = await open(socks.port)
      halfway.write(Buffer.from([5, 1, 0]))
      expect(await read(halfway, 2)).toEqual(Buffer.from([5, 0]))
      await closedWithin(halfway, 3_000)
      await expect.poll(() => socks.connections, { timeout: 2_000 }).toBe(0)
    } finally {
      await socks.close()
    }
  })

  it('closes an idle CONNECT and its upstream, but not one that keeps talking', async () => {
    const socks = await startSocks5({
      dialer,
      logger: noopLogger,
      handshakeTimeoutMs: 200,
      idleTimeoutMs: 400,
    })
    try {
      const client = await open(socks.port)
      client.write(Buffer.from([5, 1, 0]))
      await read(client, 2)
      const request = Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, upstreamPort >> 8, upstreamPort & 0xff])
      client.write(request)
      expect((await read(client, 10))[1]).toBe(0)
      // Talking every 150 ms for 1 s (past both limits) keeps it open.
      for (let i = 0; i < 7; i++) {
        client.write('ping')
        await read(client, 4)
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
      expect(upstreamSockets.size).toBe(1)
      await closedWithin(client, 3_000)
      await expect.poll(() => upstreamSockets.size, { timeout: 2_000 }).toBe(0)
    } finally {
      await socks.close()
    }
  })
})

describe('HTTP proxy limits', () => {
  it('closes a silent client and one whose request head never ends', async () => {
    const proxy = await startHttpProxy({ dialer, logger: noopLogger, handshakeTimeoutMs: 300 })
    try {
      await closedWithin(await open(proxy.port), 3_000)
      const partial = await open(proxy.port)
      partial.write('GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n')
      await closedWithin(partial, 4_000)
    } finally {
      await proxy.close()
    }
  })

  it('closes an idle CONNECT tunnel and its upstream', async () => {
    const proxy = await startHttpProxy({ dialer, logger: noopLogger, idleTimeoutMs: 400 })
    try {
      const client = await open(proxy.port)
      client.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
      expect((await read(client, 12)).toString()).toMatch(/^HTTP\/1.1 200/)
      expect(upstreamSockets.size).toBe(1)
      expect(await closedWithin(client, 3_000)).toBeGreaterThanOrEqual(300)
      await expect.poll(() => upstreamSockets.size, { timeout: 2_000 }).toBe(0)
    } finally {
      await proxy.close()
    }
  })

  it('drops the headers that Connection: names, both ways', async () => {
    let seen: IncomingHttpHeaders = {}
    const web = createHttpServer((req, res) => {
      seen = req.headers
      res.writeHead(200, { connection: 'x-upstream-hop', 'x-upstream-hop': 'secret', 'x-kept': 'yes' })
      res.end('ok')
    })
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
    const webPort = (web.address() as { port: number }).port
    const proxy = await startHttpProxy({ dialer, logger: noopLogger })
    try {
      const client = await open(proxy.port)
      client.write(
        `GET http://127.0.0.1:${webPort}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, X-Client-Hop\r\n` +
          'X-Client-Hop: token\r\nX-End-To-End: kept\r\n\r\n',
      )
      let response = ''
      client.on('data', (chunk: Buffer) => (response += chunk.toString()))
      await closedWithin(client, 3_000)
      expect(seen['x-client-hop']).toBeUndefined()
      expect(seen['x-end-to-end']).toBe('kept')
      expect(response).toMatch(/^HTTP\/1.1 200/)
      expect(response.toLowerCase()).not.toContain('x-upstream-hop: secret')
      expect(response.toLowerCase()).toContain('x-kept: yes')
    } finally {
      await proxy.close()
      web.close()
    }
  })
})
