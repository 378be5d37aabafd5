import { spawn } from 'node:child_process'
import { Agent, request as httpRequest } from 'node:http'
import { type ClientHttp2Session, connect as connectH2 } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { createInterface } from 'node:readline'

import { encodeRouterPorts, parseRouterReply } from '@ktx/core/contract'
import { type RouterControl, openRouterControl } from '@ktx/core/tunnel'
import { type RouterAgent, readAgentConfig, silentLog, startRouterAgent } from '@ktx/shadow-image'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'

import { AGENT_BUNDLE, makeKey } from '../harness/agent-process.js'
import { closeServer, startEchoServer } from '../harness/servers.js'
import { freePort, startH2Upstream, startHttp1Upstream } from '../harness/upstreams.js'

// The router in this process (as the agent starts it in router mode) in front of real local
// upstreams: "real" servers play the Service's pods (the fallback), "dev" servers a developer's
// laptop behind the session's reverse forward. Clients are node's own HTTP/1.1, HTTP/2 and ws.
const key = makeKey()
let router: RouterAgent
let webPort: number
let grpcPort: number
let rawPort: number
const upstreams: { close(): Promise<void> }[] = []
let realWeb: Awaited<ReturnType<typeof startHttp1Upstream>>
let devWeb: Awaited<ReturnType<typeof startHttp1Upstream>>
let realH2: Awaited<ReturnType<typeof startH2Upstream>>
let devH2: Awaited<ReturnType<typeof startH2Upstream>>
let echo: Awaited<ReturnType<typeof startEchoServer>>
const controls: RouterControl[] = []

function control(): RouterControl {
  const opened = openRouterControl(netConnect({ host: '127.0.0.1', port: router.controlPort, noDelay: true }))
  controls.push(opened)
  return opened
}

function devRoute(session = 'alice', value = 'x') {
  return {
    session,
    header: 'Version',
    value,
    targets: { [String(webPort)]: `127.0.0.1:${devWeb.port}`, [String(grpcPort)]: `127.0.0.1:${devH2.port}` },
  }
}

interface Answer {
  status: number
  headers: Record<string, unknown>
  json: { upstream: string; method: string; path: string; body: string; version?: string; clientPort: number }
  trailers: Record<string, unknown>
  localPort: number | undefined
}

function http1(
  path: string,
  agent: Agent,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: webPort, path, method: body === undefined ? 'GET' : 'POST', headers, agent },
      (res) => {
        const localPort = res.socket.localPort
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              json: JSON.parse(text) as Answer['json'],
              trailers: res.trailers,
              localPort,
            })
          } catch (error) {
            reject(new Error(`${res.statusCode}: ${text}`, { cause: error }))
          }
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

interface H2Answer {
  headers: Record<string, unknown>
  body: Buffer
  trailers: Record<string, unknown>
}

function h2(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined })
    const chunks: Buffer[] = []
    let answer: Record<string, unknown> = {}
    let trailers: Record<string, unknown> = {}
    stream.on('response', (responseHeaders) => (answer = responseHeaders))
    stream.on('trailers', (received: Record<string, unknown>) => (trailers = received))
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve({ headers: answer, body: Buffer.concat(chunks), trailers }))
    stream.on('error', reject)
    if (body !== undefined) stream.end(body)
  })
}

/** A gRPC message frame: uncompressed flag, big-endian length, payload. */
function grpcFrame(payload: string): Buffer {
  const data = Buffer.from(payload)
  const frame = Buffer.alloc(5 + data.length)
  frame.writeUInt32BE(data.length, 1)
  data.copy(frame, 5)
  return frame
}

function websocketRoundTrip(headers: Record<string, string>, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${webPort}/chat`, { headers })
    socket.once('open', () => socket.send(message))
    socket.once('message', (data: Buffer) => {
      resolve(data.toString())
      socket.close()
    })
    socket.once('error', reject)
  })
}

beforeAll(async () => {
  realWeb = await startHttp1Upstream('real')
  devWeb = await startHttp1Upstream('dev')
  realH2 = await startH2Upstream('real')
  devH2 = await startH2Upstream('dev')
  echo = await startEchoServer()
  upstreams.push(realWeb, devWeb, realH2, devH2)
  ;[webPort, grpcPort, rawPort] = [await freePort(), await freePort(), await freePort()]
  const config = readAgentConfig({
    KTX_AUTHORIZED_KEY: key.publicKey,
    KTX_SSH_PORT: '0',
    KTX_DIRECT_PORT: '0',
    KTX_HEALTH_PORT: '0',
    KTX_AGENT_MODE: 'router',
    KTX_CONTROL_PORT: '0',
    KTX_ROUTER_PORTS: encodeRouterPorts([
      { port: webPort, fallback: `127.0.0.1:${realWeb.port}` },
      { port: grpcPort, fallback: `127.0.0.1:${realH2.port}` },
      { port: rawPort, fallback: `127.0.0.1:${echo.port}` },
    ]),
  })
  if (config.mode !== 'router') throw new Error('expected router mode')
  router = await startRouterAgent(config, silentLog)
})

afterEach(async () => {
  await Promise.all(controls.splice(0).map((opened) => opened.close()))
})

afterAll(async () => {
  await router.close()
  await Promise.all(upstreams.map((upstream) => upstream.close()))
  await closeServer(echo.server)
})

describe('router: HTTP/1.1', () => {
  it('routes each request of one keep-alive connection on its own header', async () => {
    await control().add(devRoute())
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const marked = await http1('/one', agent, { version: 'x' })
      const plain = await http1('/two', agent)
      const markedPost = await http1('/three', agent, { VERSION: 'x' }, 'a body')
      const otherMark = await http1('/four', agent, { version: 'X' })
      expect([marked, plain, markedPost, otherMark].map((answer) => answer.json.upstream)).toEqual([
        'dev',
        'real',
        'dev',
        'real',
      ])
      // One client connection carried all four.
      expect(new Set([marked, plain, markedPost, otherMark].map((answer) => answer.localPort)).size).toBe(1)
      expect(markedPost.json).toMatchObject({ method: 'POST', path: '/three', body: 'a body', version: 'x' })
      // The router keeps its upstream connections too: the dev server saw one client port.
      expect(marked.json.clientPort).toBe(markedPost.json.clientPort)
    } finally {
      agent.destroy()
    }
  })

  it('passes response trailers through', async () => {
    await control().add(devRoute())
    const agent = new Agent({ keepAlive: false })
    const answer = await http1('/trailer', agent, { version: 'x' })
    expect(answer.json.upstream).toBe('dev')
    expect(answer.trailers).toEqual({ 'x-checksum': 'sum-of-dev' })
  })

  it('answers 502 naming the target when a route points at nothing', async () => {
    const dead = await freePort()
    await control().add({ ...devRoute(), targets: { [String(webPort)]: `127.0.0.1:${dead}` } })
    const status = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: webPort, path: '/', headers: { version: 'x' } }, (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => resolve({ code: res.statusCode ?? 0, text }))
      })
        .on('error', reject)
        .end()
    })
    expect(status.code).toBe(502)
    expect(status.text).toContain(`127.0.0.1:${dead}`)
  })
})

describe('router: WebSocket', () => {
  it('routes at the upgrade request and then carries the frames', async () => {
    await control().add(devRoute())
    expect(await websocketRoundTrip({ version: 'x' }, 'hello')).toBe('dev:hello')
    expect(await websocketRoundTrip({}, 'hello')).toBe('real:hello')
  })
})

describe('router: HTTP/2 cleartext', () => {
  it('routes each stream of one connection on its own header, with trailers', async () => {
    await control().add(devRoute())
    const session = connectH2(`http://127.0.0.1:${grpcPort}`)
    try {
      const [marked, plain] = await Promise.all([
        h2(session, { ':path': '/a', version: 'x' }),
        h2(session, { ':path': '/b' }),
      ])
      expect(JSON.parse(marked.body.toString())).toMatchObject({ upstream: 'dev', path: '/a', version: 'x' })
      expect(marked.trailers).toMatchObject({ 'x-upstream': 'dev' })
      expect(JSON.parse(plain.body.toString())).toMatchObject({ upstream: 'real', path: '/b' })
      expect(plain.trailers).toMatchObject({ 'x-upstream': 'real' })
      const posted = await h2(
        session,
        { ':method': 'POST', ':path': '/c', version: 'x' },
        Buffer.from('payload'),
      )
      expect(JSON.parse(posted.body.toString())).toMatchObject({ upstream: 'dev', body: 'payload' })
    } finally {
      session.close()
    }
  })

  it('answers 502 on a stream whose route points at nothing, and the connection lives on', async () => {
    const dead = await freePort()
    await control().add({ ...devRoute(), targets: { [String(grpcPort)]: `127.0.0.1:${dead}` } })
    const session = connectH2(`http://127.0.0.1:${grpcPort}`)
    try {
      const failed = await h2(session, { ':path': '/', version: 'x' })
      expect(failed.headers[':status']).toBe(502)
      expect(failed.body.toString()).toContain(`127.0.0.1:${dead}`)
      const plain = await h2(session, { ':path': '/after' })
      expect(JSON.parse(plain.body.toString())).toMatchObject({ upstream: 'real', path: '/after' })
    } finally {
      session.close()
    }
  })

  it('carries a gRPC call: framed message, grpc-status in trailers, trailers-only errors', async () => {
    await control().add(devRoute())
    const session = connectH2(`http://127.0.0.1:${grpcPort}`)
    try {
      const call = (path: string, mark?: string) =>
        h2(
          session,
          {
            ':method': 'POST',
            ':path': path,
            'content-type': 'application/grpc',
            te: 'trailers',
            ...(mark === undefined ? {} : { version: mark }),
          },
          grpcFrame('ping'),
        )
      const ok = await call('/test.Echo/Say', 'x')
      expect(ok.headers[':status']).toBe(200)
      expect(ok.body.equals(grpcFrame('ping'))).toBe(true)
      expect(ok.trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'dev' })
      const fallback = await call('/test.Echo/Say')
      expect(fallback.trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'real' })
      const failed = await call('/test.Echo/Fail', 'x')
      expect(failed.headers).toMatchObject({ 'grpc-status': '5', 'grpc-message': 'not found at dev' })
      expect(failed.body.length).toBe(0)
    } finally {
      session.close()
    }
  })
})

describe('router: everything else', () => {
  it('carries bytes it cannot classify to the fallback as raw TCP', async () => {
    const garbage = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0x00, 0x0a, 0x0d, 0x0a])
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: rawPort })
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.on('end', () => resolve(Buffer.concat(chunks)))
      socket.on('error', reject)
      // Half-close after the bytes: the echo answers and ends, as a raw pipe must let it.
      socket.end(garbage)
    })
    expect(echoed.equals(garbage)).toBe(true)
  })

  it('sends garbage on an HTTP port to the real pods, not to a route', async () => {
    await control().add(devRoute())
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: webPort })
      let text = ''
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
      socket.write('hello there\r\nversion: x\r\n\r\n')
    })
    // The real server's own parser refused it: the bytes reached the fallback untouched.
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request/)
  })
})

describe('router: control', () => {
  it('refuses a mark another session holds, naming it; other marks route side by side', async () => {
    await control().add(devRoute('alice', 'x'))
    const bob = control()
    await expect(bob.add({ ...devRoute('bob', 'x'), header: 'VERSION' })).rejects.toMatchObject({
      code: 'KTX_MESH_MARK_TAKEN',
      data: { owner: 'alice' },
    })
    await bob.add({ ...devRoute('bob', 'y'), targets: { [String(webPort)]: `127.0.0.1:${realWeb.port}` } })
    const routes = await bob.list()
    expect(routes.map((route) => `${route.session}=${route.value}`).sort()).toEqual(['alice=x', 'bob=y'])
  })

  it('removes the routes of a control connection when it closes', async () => {
    const alice = control()
    await alice.add(devRoute())
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect((await http1('/', agent, { version: 'x' })).json.upstream).toBe('dev')
      await alice.close()
      // The router learns of the close asynchronously; ask it (a round trip after the close).
      const observer = control()
      expect(await observer.list()).toEqual([])
      // The same client connection now reaches the real pods: routes change without a restart.
      expect((await http1('/', agent, { version: 'x' })).json.upstream).toBe('real')
      // The mark is free again.
      await observer.add(devRoute('carol'))
      expect((await http1('/', agent, { version: 'x' })).json.upstream).toBe('dev')
      await observer.remove('carol')
      expect((await http1('/', agent, { version: 'x' })).json.upstream).toBe('real')
    } finally {
      agent.destroy()
    }
  })

  for (const ending of ['ends', 'is cut off'] as const) {
    it(`removes the routes of a control connection that ${ending} without removing them`, async () => {
      const socket = netConnect({ host: '127.0.0.1', port: router.controlPort })
      socket.on('error', () => undefined)
      const reply = await new Promise<string>((resolve) => {
        createInterface({ input: socket }).once('line', resolve)
        socket.write(`${JSON.stringify({ op: 'add', ...devRoute('killed') })}\n`)
      })
      expect(parseRouterReply(reply)).toEqual({ ok: true })
      const observer = control()
      expect((await observer.list()).map((route) => route.session)).toEqual(['killed'])
      if (ending === 'ends') socket.end()
      else socket.resetAndDestroy()
      // Nothing on this side can know when the router has read the FIN or reset; watch its table.
      await vi.waitFor(async () => expect(await observer.list()).toEqual([]), {
        timeout: 5_000,
        interval: 20,
      })
    })
  }

  it('answers malformed and unknown-port requests and keeps the connection', async () => {
    const lines = await new Promise<string[]>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: router.controlPort })
      const received: string[] = []
      createInterface({ input: socket }).on('line', (line) => {
        received.push(line)
        if (received.length === 3) {
          socket.end()
          resolve(received)
        }
      })
      socket.on('error', reject)
      socket.write('this is not json\n')
      socket.write(`${JSON.stringify({ ...devRoute(), op: 'add', targets: { '1': '127.0.0.1:1' } })}\r\n`)
      socket.write('{"op":"ping"}\n')
    })
    expect(parseRouterReply(lines[0] ?? '')).toMatchObject({ ok: false, code: 'bad-request' })
    expect(parseRouterReply(lines[1] ?? '')).toMatchObject({ ok: false, code: 'unknown-port' })
    expect(parseRouterReply(lines[2] ?? '')).toEqual({ ok: true })
  })
})

describe('router: the bundled agent', () => {
  it('starts in router mode from its environment and routes', async () => {
    const [port, controlPort] = [await freePort(), await freePort()]
    const child = spawn(process.execPath, [AGENT_BUNDLE], {
      env: {
        ...process.env,
        KTX_AUTHORIZED_KEY: key.publicKey,
        KTX_SSH_PORT: '0',
        KTX_DIRECT_PORT: '0',
        KTX_HEALTH_PORT: '0',
        KTX_AGENT_MODE: 'router',
        KTX_CONTROL_PORT: String(controlPort),
        KTX_ROUTER_PORTS: encodeRouterPorts([{ port, fallback: `127.0.0.1:${realWeb.port}` }]),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stderr }).on('line', (line) => {
          if ((JSON.parse(line) as { message?: string }).message === 'Agent ready') resolve()
        })
        child.once('exit', (code) => reject(new Error(`agent exited with ${String(code)}`)))
      })
      const bundled = openRouterControl(netConnect({ host: '127.0.0.1', port: controlPort }))
      controls.push(bundled)
      await bundled.ping()
      await bundled.add({
        session: 's',
        header: 'x-dev',
        value: 'me',
        targets: { [String(port)]: `127.0.0.1:${devWeb.port}` },
      })
      const upstream = await new Promise<string>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path: '/', headers: { 'X-Dev': 'me' } }, (res) =>
          resolve(String(res.headers['x-upstream'])),
        )
          .on('error', reject)
          .end()
      })
      expect(upstream).toBe('dev')
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve()
        else {
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
        }
      })
    }
  })

  it('refuses a bad KTX_ROUTER_PORTS at start, naming it', async () => {
    const child = spawn(process.execPath, [AGENT_BUNDLE], {
      env: {
        ...process.env,
        KTX_AUTHORIZED_KEY: key.publicKey,
        KTX_AGENT_MODE: 'router',
        KTX_ROUTER_PORTS: '[{"port":80}]',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    expect(stderr).toMatch(/KTX_ROUTER_PORTS entry 0: \\"fallback\\" must be/)
  })
})
