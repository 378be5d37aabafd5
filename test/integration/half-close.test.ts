/**
 * Half-close and backpressure on every forward path, over real processes on loopback (the bundled
 * agent as a child process, core's SSH client, direct-path dialer and proxies in this process):
 * - a client that sends its request, shuts down its write side, then reads a large reply gets the
 *   whole reply, byte for byte: through SOCKS5 (over SSH and over the direct data path, whose
 *   framing carries the half-close a port-forward cannot), the HTTP proxy's CONNECT, and a reverse forward
 *   (a caller at the agent's listener → this machine's server), each crossing the agent;
 * - a reader that stops reading stalls the sender: what the sender could hand to the kernel stays
 *   bounded by the socket buffers and the SSH window instead of the whole reply piling up in a
 *   proxy's memory; once the reader resumes, every byte arrives.
 */
import { createHash } from 'node:crypto'
import { type Server, type Socket, connect as netConnect, createServer } from 'node:net'

import { noopLogger } from '@ktx/core'
import {
  type DirectDialer,
  type HttpProxyServer,
  type ReverseForward,
  type Socks5Server,
  type SshConnection,
  createDirectDialer,
  openSsh,
  sessionSigner,
  socks5Connect,
  startHttpProxy,
  startReverseForward,
  startSocks5,
} from '@ktx/core/tunnel'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type AgentProcess, makeKey, startAgentProcess } from '../harness/agent-process.js'
import { closeServer } from '../harness/servers.js'

const MiB = 1 << 20
const REPLY = 8 * MiB
const key = makeKey()
let agent: AgentProcess
let ssh: SshConnection
let socks: Socks5Server
let direct: DirectDialer
let directSocks: Socks5Server
let proxy: HttpProxyServer
let reverse: ReverseForward
let server: ReplyServer

// The reply to a request: `size` bytes that depend on the request, so a mixed-up stream shows.
function replyFor(request: string, size: number): Buffer {
  const block = createHash('sha256').update(request).digest()
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i += block.length) block.copy(out, i)
  return out
}

interface ReplyServer {
  readonly server: Server
  readonly port: number
  /** Bytes each connection's writes had flushed to the kernel so far, newest connection last. */
  readonly flushed: number[]
}

// Reads the request until the client's FIN (half-open: it may still write), then sends the reply
// in 64 KiB writes, each only after the last was taken (write() → false waits for 'drain').
async function startReplyServer(size: number): Promise<ReplyServer> {
  const flushed: number[] = []
  const srv = createServer({ allowHalfOpen: true }, (socket) => {
    const index = flushed.push(0) - 1
    let request = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => (request += chunk))
    socket.on('error', () => undefined)
    socket.once('end', () => {
      const reply = replyFor(request, size)
      let offset = 0
      const pump = (): void => {
        while (offset < reply.length) {
          const chunk = reply.subarray(offset, offset + 64 * 1024)
          offset += chunk.length
          const more = socket.write(chunk, () => (flushed[index]! += chunk.length))
          if (!more) {
            socket.once('drain', pump)
            return
          }
        }
        socket.end()
      }
      pump()
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  return { server: srv, port: (srv.address() as { port: number }).port, flushed }
}

// Sends `request`, half-closes, and reads until the peer ends; resolves with what came back.
function requestThenRead(socket: Socket, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('end', () => resolve(Buffer.concat(chunks)))
    socket.once('error', reject)
    socket.end(request)
  })
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(socket))
    socket.once('error', reject)
  })
}

// A CONNECT tunnel through the HTTP proxy, past its `200` head.
async function httpConnect(proxyPort: number, port: number): Promise<Socket> {
  const socket = await connectTo(proxyPort)
  socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
  let head = Buffer.alloc(0)
  while (!head.includes('\r\n\r\n')) {
    const chunk = await new Promise<Buffer>((resolve) => socket.once('data', resolve))
    head = Buffer.concat([head, chunk])
  }
  const end = head.indexOf('\r\n\r\n') + 4
  expect(head.subarray(0, end).toString()).toMatch(/^HTTP\/1\.1 200/)
  if (end < head.length) socket.unshift(head.subarray(end))
  return socket
}

// A half-open client socket through a SOCKS5 proxy on `proxyPort` to `server`.
async function viaSocks(proxyPort: number): Promise<Socket> {
  const socket = await socks5Connect({
    proxyHost: '127.0.0.1',
    proxyPort,
    host: '127.0.0.1',
    port: server.port,
  })
  socket.allowHalfOpen = true
  return socket
}

// The paths, each a way to open a client socket that ends at `server`.
const paths: Record<string, () => Promise<Socket>> = {
  socks5: () => viaSocks(socks.port),
  'socks5 over the direct data path': async () => {
    // A dial without a spare would go over SSH; this path is about the direct one.
    await vi.waitFor(() => expect(direct.idle).toBeGreaterThan(0), { timeout: 5_000 })
    return viaSocks(directSocks.port)
  },
  'http CONNECT': () => httpConnect(proxy.port, server.port),
  'reverse forward (cluster caller to this machine)': () => connectTo(reverse.remotePort),
}

beforeAll(async () => {
  agent = await startAgentProcess(key.publicKey)
  const sock = netConnect({ host: '127.0.0.1', port: agent.sshPort, noDelay: true })
  ssh = await openSsh({
    sock,
    username: 'ktx',
    privateKey: key.privateKey,
    readyTimeoutMs: 10_000,
    logger: noopLogger,
  })
  socks = await startSocks5({ dialer: ssh, port: 0, logger: noopLogger })
  proxy = await startHttpProxy({ dialer: ssh, port: 0, logger: noopLogger })
  direct = createDirectDialer({
    open: () => connectTo(agent.directPort),
    sign: sessionSigner(key.privateKey),
    fallback: { dial: () => Promise.reject(new Error('the direct path fell back to SSH')) },
    spare: 2,
    handshakeTimeoutMs: 5_000,
    log: noopLogger,
  })
  await direct.proven
  directSocks = await startSocks5({ dialer: direct, port: 0, logger: noopLogger })
  server = await startReplyServer(REPLY)
  reverse = await startReverseForward({ ssh, remotePort: 0, localPort: server.port, logger: noopLogger })
})

afterAll(async () => {
  await reverse.close()
  await proxy.close()
  await directSocks.close()
  direct.close()
  await socks.close()
  await ssh.close()
  await agent.stop()
  await closeServer(server.server)
})

describe('a client that sends, shuts down its write side, then reads a large reply', () => {
  for (const [name, open] of Object.entries(paths)) {
    it(`${name}: gets all 8 MiB, byte for byte`, async () => {
      const request = `GET /${name} please`
      const reply = await requestThenRead(await open(), request)
      expect(reply.length).toBe(REPLY)
      expect(reply.equals(replyFor(request, REPLY))).toBe(true)
    })
  }
})

describe('a reader that stops reading', () => {
  for (const [name, open] of Object.entries(paths)) {
    it(`${name}: stalls the sender with a bounded amount in flight, then gets every byte`, async () => {
      const big = await startReplyServer(64 * MiB)
      const was = server
      server = big
      const own = name.startsWith('reverse')
        ? await startReverseForward({ ssh, remotePort: 0, localPort: big.port, logger: noopLogger })
        : undefined
      try {
        const socket = own ? await connectTo(own.remotePort) : await open()
        socket.pause()
        socket.end('slow reader')
        // The sender runs until every buffer on the way is full, then stops.
        let last = -1
        await vi.waitFor(
          async () => {
            const now = big.flushed[0] ?? 0
            const settled = now > 0 && now === last
            last = now
            await new Promise((r) => setTimeout(r, 300))
            expect(settled).toBe(true)
          },
          { timeout: 15_000, interval: 0 },
        )
        const inFlight = big.flushed[0]!
        expect(inFlight).toBeLessThan(24 * MiB)
        const received = await new Promise<number>((resolve, reject) => {
          let length = 0
          socket.on('data', (chunk: Buffer) => (length += chunk.length))
          socket.once('end', () => resolve(length))
          socket.once('error', reject)
          socket.resume()
        })
        expect(received).toBe(64 * MiB)
        console.log(
          `${name}: sender stalled at ${(inFlight / MiB).toFixed(1)} MiB of 64 MiB while the reader paused`,
        )
      } finally {
        await own?.close()
        server = was
        await closeServer(big.server)
      }
    })
  }
})
