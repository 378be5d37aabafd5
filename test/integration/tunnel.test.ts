import { connect as netConnect } from 'node:net'

import { isKtxError, noopLogger } from '@ktx/core'
import {
  type HttpProxyServer,
  type Socks5Server,
  type SshConnection,
  openSsh,
  socks5Connect,
  startHttpProxy,
  startReverseForward,
  startSocks5,
  TunnelHttpAgent,
} from '@ktx/core/tunnel'
import { get } from 'node:http'
import { ProxyAgent, fetch, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type AgentProcess, makeKey, startAgentProcess } from '../harness/agent-process.js'
import { curl } from '../harness/curl.js'
import { closeServer, isListening, startEchoServer, startHttpServer } from '../harness/servers.js'

// Real processes on loopback: the bundled agent as a child process, core's SSH client, SOCKS5 and
// HTTP proxies in this process, curl as the client, and local HTTP/echo servers as targets.
const key = makeKey()
let agent: AgentProcess
let ssh: SshConnection
let socks: Socks5Server
let proxy: HttpProxyServer
let web: Awaited<ReturnType<typeof startHttpServer>>
let echo: Awaited<ReturnType<typeof startEchoServer>>

function sshTo(port: number, privateKey: string): Promise<SshConnection> {
  const sock = netConnect({ host: '127.0.0.1', port, noDelay: true })
  return openSsh({ sock, username: 'ktx', privateKey, readyTimeoutMs: 10_000, logger: noopLogger })
}

beforeAll(async () => {
  agent = await startAgentProcess(key.publicKey)
  web = await startHttpServer('hello from the target\n')
  echo = await startEchoServer()
  ssh = await sshTo(agent.sshPort, key.privateKey)
  socks = await startSocks5({ dialer: ssh, port: 0, logger: noopLogger })
  proxy = await startHttpProxy({ dialer: ssh, port: 0, logger: noopLogger })
})

afterAll(async () => {
  await proxy.close()
  await socks.close()
  await ssh.close()
  await agent.stop()
  await closeServer(web.server)
  await closeServer(echo.server)
})

describe('agent health', () => {
  it('answers 200 on /healthz once SSH listens, 404 elsewhere', async () => {
    const ok = await request(`http://127.0.0.1:${agent.healthPort}/healthz`)
    expect(ok.statusCode).toBe(200)
    expect(await ok.body.text()).toBe('ok\n')
    const other = await request(`http://127.0.0.1:${agent.healthPort}/`)
    expect(other.statusCode).toBe(404)
    await other.body.dump()
  })
})

describe('SOCKS5 through SSH to the agent', () => {
  it('reaches a server by host name (resolved by the agent) with curl --socks5-hostname', async () => {
    const result = await curl([
      '--socks5-hostname',
      `127.0.0.1:${socks.port}`,
      `http://localhost:${web.port}/by-name`,
    ])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('hello from the target\n')
  })

  it('reaches a server by IPv4 address', async () => {
    const result = await curl([
      '--socks5-hostname',
      `127.0.0.1:${socks.port}`,
      `http://127.0.0.1:${web.port}/by-ip`,
    ])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('hello from the target\n')
  })

  it('answers "connection refused" (5) for a closed port and "host unreachable" (4) for an unknown name', async () => {
    const closed = await socks5Connect({
      proxyHost: '127.0.0.1',
      proxyPort: socks.port,
      host: '127.0.0.1',
      port: 1,
    }).catch((e: unknown) => e)
    expect(closed).toMatchObject({ name: 'DialError', code: 'KTX_DIAL_FAILED', socketCode: 'ECONNREFUSED' })
    const unknown = await socks5Connect({
      proxyHost: '127.0.0.1',
      proxyPort: socks.port,
      host: 'no-such-host.invalid',
      port: 80,
    }).catch((e: unknown) => e)
    expect(unknown).toMatchObject({ name: 'DialError', code: 'KTX_DIAL_FAILED', socketCode: 'EHOSTUNREACH' })
    const viaCurl = await curl(['--socks5-hostname', `127.0.0.1:${socks.port}`, 'http://127.0.0.1:1/'])
    expect(viaCurl.code).toBe(97)
    // curl prints the SOCKS reply code: 5 = connection refused.
    expect(viaCurl.stderr).toContain('(5)')
  })

  it('carries 200 concurrent connections and leaves no socket open in the agent afterwards', async () => {
    const baseline = agent.socketCount()
    const payloads = Array.from({ length: 200 }, (_, i) => Buffer.from(`message ${i} `.repeat(50)))
    const sockets = await Promise.all(
      payloads.map(() =>
        socks5Connect({ proxyHost: '127.0.0.1', proxyPort: socks.port, host: '127.0.0.1', port: echo.port }),
      ),
    )
    // While all 200 are open, the agent holds one target socket per connection.
    expect(agent.socketCount()).toBeGreaterThanOrEqual(baseline + 200)
    const echoed = await Promise.all(
      sockets.map(
        (socket, i) =>
          new Promise<Buffer>((resolve, reject) => {
            const chunks: Buffer[] = []
            const want = payloads[i]!.length
            let got = 0
            socket.on('data', (chunk: Buffer) => {
              chunks.push(chunk)
              got += chunk.length
              if (got >= want) resolve(Buffer.concat(chunks))
            })
            socket.once('error', reject)
            socket.write(payloads[i]!)
          }),
      ),
    )
    echoed.forEach((data, i) => expect(data.equals(payloads[i]!)).toBe(true))
    for (const socket of sockets) socket.end()
    await vi.waitFor(() => expect(agent.socketCount()).toBe(baseline), { timeout: 10_000, interval: 50 })
    await vi.waitFor(() => expect(echo.open.size).toBe(0), { timeout: 10_000, interval: 50 })
    await vi.waitFor(() => expect(socks.connections).toBe(0), { timeout: 10_000, interval: 50 })
  })
})

describe('teardown when the target closes first', () => {
  it('leaves no socket open in the agent or the SOCKS server after 50 server-side closes', async () => {
    const { createServer } = await import('node:net')
    const closer = createServer((socket) => {
      socket.end('bye')
    })
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve))
    const port = (closer.address() as { port: number }).port
    try {
      const baseline = agent.socketCount()
      const received = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const socket = await socks5Connect({
            proxyHost: '127.0.0.1',
            proxyPort: socks.port,
            host: '127.0.0.1',
            port,
          })
          return new Promise<string>((resolve) => {
            let data = ''
            socket.setEncoding('utf8')
            socket.on('data', (chunk: string) => (data += chunk))
            // The client never ends its side: the far end's close alone must free everything.
            socket.once('close', () => resolve(data))
          })
        }),
      )
      expect(received.filter((data) => data !== 'bye')).toEqual([])
      await vi.waitFor(() => expect(agent.socketCount()).toBe(baseline), { timeout: 10_000, interval: 50 })
      await vi.waitFor(() => expect(socks.connections).toBe(0), { timeout: 10_000, interval: 50 })
    } finally {
      await closeServer(closer)
    }
  })
})

describe('HTTP proxy through SSH to the agent', () => {
  it('forwards plain absolute-URI requests (curl -x)', async () => {
    const result = await curl(['-x', proxy.url, `http://localhost:${web.port}/plain?q=1`, '-D', '-'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('hello from the target')
    expect(result.stdout.toLowerCase()).toContain('x-seen-url: /plain?q=1')
  })

  it('tunnels CONNECT (curl -p -x)', async () => {
    const result = await curl(['-p', '-x', proxy.url, `http://127.0.0.1:${web.port}/tunnelled`])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('hello from the target\n')
  })

  it('reuses one channel for sequential absolute-URI requests to one target (keep-alive upstream)', async () => {
    let dials = 0
    const counting = {
      dial: (host: string, port: number) => {
        dials++
        return ssh.dial(host, port)
      },
    }
    const own = await startHttpProxy({ dialer: counting, logger: noopLogger })
    try {
      // One curl, three URLs: curl keeps its connection to the proxy, the proxy its channel.
      const url = `http://127.0.0.1:${web.port}/again`
      const result = await curl(['-x', own.url, url, url, url])
      expect(result.code).toBe(0)
      expect(result.stdout).toBe('hello from the target\n'.repeat(3))
      expect(dials).toBe(1)
    } finally {
      await own.close()
    }
  })

  it('answers 502 with the reason when the target refuses', async () => {
    const result = await curl([
      '-x',
      proxy.url,
      'http://127.0.0.1:1/',
      '-w',
      '%{http_code}',
      '-o',
      '/dev/null',
    ])
    expect(result.stdout).toBe('502')
  })
})

describe('IPv6 and the library agents', () => {
  it('reaches an IPv6 target through SOCKS5 (ATYP 4)', async () => {
    const v6 = await startHttpServer('hello over ipv6\n', '::1')
    try {
      const result = await curl(['--socks5-hostname', `127.0.0.1:${socks.port}`, `http://[::1]:${v6.port}/`])
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe('hello over ipv6\n')
      const socket = await socks5Connect({
        proxyHost: '127.0.0.1',
        proxyPort: socks.port,
        host: '::1',
        port: v6.port,
      })
      socket.destroy()
    } finally {
      await closeServer(v6.server)
    }
  })

  it('an http.Agent over the SOCKS5 server (TunnelHttpAgent) keeps a connection alive', async () => {
    const agent = new TunnelHttpAgent({ host: '127.0.0.1', port: socks.port })
    try {
      const fetchOnce = () =>
        new Promise<string>((resolve, reject) => {
          get(`http://localhost:${web.port}/agent`, { agent }, (res) => {
            let body = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => (body += chunk))
            res.on('end', () => resolve(body))
          }).on('error', reject)
        })
      expect(await fetchOnce()).toBe('hello from the target\n')
      expect(await fetchOnce()).toBe('hello from the target\n')
    } finally {
      agent.destroy()
    }
  })

  it('an undici ProxyAgent on the HTTP proxy (what session.dispatcher is)', async () => {
    const dispatcher = new ProxyAgent(proxy.url)
    try {
      const response = await fetch(`http://localhost:${web.port}/undici`, { dispatcher })
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('hello from the target\n')
    } finally {
      await dispatcher.close()
    }
  })
})

describe('SSH authentication', () => {
  it('rejects a key other than the authorized one', async () => {
    const stranger = makeKey()
    const error = await sshTo(agent.sshPort, stranger.privateKey).catch((e: unknown) => e)
    expect(isKtxError(error) && error.code).toBe('KTX_SSH_HANDSHAKE')
    expect((error as Error).message).toMatch(/authentication/i)
  })
})

describe('remote forwarding (tcpip-forward)', () => {
  it('carries bytes from a listener in the agent back to a local port', async () => {
    const forward = await startReverseForward({
      ssh,
      remotePort: 0,
      localPort: echo.port,
      logger: noopLogger,
    })
    expect(forward.remotePort).toBeGreaterThan(0)
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: forward.remotePort })
      let data = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        data += chunk
        if (data === 'ping through the pod') {
          socket.end()
          resolve(data)
        }
      })
      socket.once('error', reject)
      socket.write('ping through the pod')
    })
    expect(reply).toBe('ping through the pod')
    await forward.close()
    await vi.waitFor(async () => expect(await isListening(forward.remotePort)).toBe(false), {
      timeout: 5_000,
    })
  })
})

describe('close() frees every port', () => {
  it('stops listening on the SOCKS and HTTP ports and drops the agent connection', async () => {
    const ownSsh = await sshTo(agent.sshPort, key.privateKey)
    const ownSocks = await startSocks5({ dialer: ownSsh, logger: noopLogger })
    const ownProxy = await startHttpProxy({ dialer: ownSsh, logger: noopLogger })
    const held = await socks5Connect({
      proxyHost: '127.0.0.1',
      proxyPort: ownSocks.port,
      host: '127.0.0.1',
      port: echo.port,
    })
    const heldClosed = new Promise<void>((resolve) => held.once('close', () => resolve()))
    held.on('error', () => undefined)
    expect(await isListening(ownSocks.port)).toBe(true)
    await ownProxy.close()
    await ownSocks.close()
    await ownSsh.close()
    await heldClosed
    expect(await isListening(ownSocks.port)).toBe(false)
    expect(await isListening(ownProxy.port)).toBe(false)
    expect(await ownSsh.ended).toBeUndefined()
  })
})
