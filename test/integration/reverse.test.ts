/**
 * The inbound path over real processes on loopback: the bundled agent (as the shadow pod runs it)
 * listens for `tcpip-forward`, core's reverse forward carries each connection back to a local
 * port. What exchange relies on: a closed local port is a reset for the caller (not a hang, not a
 * crash), callers that vanish at any moment leave no socket behind in the agent, and close() cuts
 * what it carries.
 */
import { spawn } from 'node:child_process'
import { type Socket, connect as netConnect, createServer } from 'node:net'

import { noopLogger } from '@ktx/core'
import { type ReverseForward, type SshConnection, openSsh, startReverseForward } from '@ktx/core/tunnel'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type AgentProcess, makeKey, startAgentProcess } from '../harness/agent-process.js'
import { closeServer, startEchoServer } from '../harness/servers.js'

const key = makeKey()
let agent: AgentProcess
let ssh: SshConnection

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
})

afterAll(async () => {
  await ssh.close()
  await agent.stop()
})

// A port nothing listens on (bound once by the OS, then released).
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await closeServer(server)
  return port
}

// Connects to the agent's remote listener and reports how the connection ended.
function call(port: number, payload: string): Promise<{ data: string; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    let data = ''
    let error: string | undefined
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      data += chunk
      if (data === payload) socket.end()
    })
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code))
    socket.on('close', () => resolve({ data, error }))
    socket.once('connect', () => socket.write(payload))
  })
}

describe('reverse forward to a local port nobody listens on', () => {
  it('resets the caller at once, reports it, keeps the agent running, and works once a server appears', async () => {
    const port = await closedPort()
    const refusals: string[] = []
    const forward = await startReverseForward({
      ssh,
      remotePort: 0,
      localPort: port,
      logger: noopLogger,
      onLocalError: (error) => refusals.push(error.code ?? ''),
    })
    try {
      const started = Date.now()
      const refused = await call(forward.remotePort, 'hello')
      expect(refused).toEqual({ data: '', error: 'ECONNRESET' })
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(refusals).toEqual(['ECONNREFUSED'])
      expect(agent.child.exitCode).toBeNull()

      const echo = createServer((socket) => socket.pipe(socket))
      await new Promise<void>((resolve) => echo.listen(port, '127.0.0.1', resolve))
      try {
        expect(await call(forward.remotePort, 'now it answers')).toEqual({
          data: 'now it answers',
          error: undefined,
        })
      } finally {
        await closeServer(echo)
      }
    } finally {
      await forward.close()
    }
  })
})

describe('callers that come and go in every way', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>
  let forward: ReverseForward

  beforeAll(async () => {
    echo = await startEchoServer()
    forward = await startReverseForward({ ssh, remotePort: 0, localPort: echo.port, logger: noopLogger })
  })

  afterAll(async () => {
    await forward.close()
    await closeServer(echo.server)
  })

  it('leave no socket in the agent or in ktx: full exchanges, resets before and after the channel opens, callers that leave at once, half-closes', async () => {
    const baseline = agent.socketCount()
    const port = forward.remotePort
    const full = Array.from({ length: 60 }, (_, i) => call(port, `message ${i}`))
    const resetEarly = Array.from(
      { length: 30 },
      () =>
        new Promise<void>((resolve) => {
          const socket: Socket = netConnect({ host: '127.0.0.1', port }, () => {
            socket.resetAndDestroy()
            resolve()
          })
          socket.on('error', () => resolve())
        }),
    )
    const resetLate = Array.from(
      { length: 30 },
      () =>
        new Promise<void>((resolve) => {
          const socket: Socket = netConnect({ host: '127.0.0.1', port }, () => socket.write('x'))
          socket.once('data', () => {
            socket.resetAndDestroy()
            resolve()
          })
          socket.on('error', () => resolve())
        }),
    )
    // Connect and leave at once, with nothing sent: TCP health checks do this all day.
    const leaveAtOnce = Array.from(
      { length: 30 },
      () =>
        new Promise<void>((resolve) => {
          const socket: Socket = netConnect({ host: '127.0.0.1', port }, () => socket.end())
          socket.resume()
          socket.on('close', () => resolve())
          socket.on('error', () => resolve())
        }),
    )
    const halfClose = Array.from(
      { length: 30 },
      () =>
        new Promise<string>((resolve) => {
          const socket = netConnect({ host: '127.0.0.1', port }, () => socket.end('half'))
          let data = ''
          socket.setEncoding('utf8')
          socket.on('data', (chunk: string) => (data += chunk))
          socket.on('close', () => resolve(data))
          socket.on('error', () => resolve(data))
        }),
    )
    const results = await Promise.all(full)
    expect(results.every((r, i) => r.data === `message ${i}` && r.error === undefined)).toBe(true)
    await Promise.all([...resetEarly, ...resetLate, ...leaveAtOnce])
    expect(await Promise.all(halfClose)).toEqual(Array.from({ length: 30 }, () => 'half'))

    await vi.waitFor(
      () => {
        expect(agent.socketCount()).toBe(baseline)
        expect(forward.active).toBe(0)
        expect(echo.open.size).toBe(0)
      },
      { timeout: 10_000, interval: 100 },
    )
    expect(agent.child.exitCode).toBeNull()
  })

  it('a caller that uploads 8 MiB and half-closes gets all of it echoed back', async () => {
    const payload = Buffer.alloc(8 << 20, 3)
    const received = await new Promise<number>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: forward.remotePort }, () => socket.end(payload))
      let length = 0
      socket.on('data', (chunk: Buffer) => (length += chunk.length))
      socket.on('close', () => resolve(length))
      socket.on('error', reject)
    })
    expect(received).toBe(payload.length)
  })

  it('close() stops the listener and cuts the connections it carries', async () => {
    const own = await startReverseForward({ ssh, remotePort: 0, localPort: echo.port, logger: noopLogger })
    const socket = netConnect({ host: '127.0.0.1', port: own.remotePort })
    socket.on('error', () => undefined)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve())
      socket.write('ping')
    })
    expect(own.active).toBe(1)
    await own.close()
    await closed
    expect(own.active).toBe(0)
    const refused = await new Promise<string | undefined>((resolve) => {
      const again = netConnect({ host: '127.0.0.1', port: own.remotePort })
      again.once('connect', () => {
        again.destroy()
        resolve(undefined)
      })
      again.once('error', (e: NodeJS.ErrnoException) => resolve(e.code))
    })
    expect(refused).toBe('ECONNREFUSED')
  })
})

describe('a local port that never answers the connect', () => {
  it('resets the caller after connectTimeoutMs instead of holding the channel', async () => {
    // A listener (another process) with backlog 0 that never accepts: once its queue holds one
    // connection, the kernel drops further SYNs and a connect hangs.
    const stuck = spawn('python3', [
      '-c',
      'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
    ])
    try {
      const port = await new Promise<number>((resolve) =>
        stuck.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
      )
      const fillers = [netConnect({ port, host: '127.0.0.1' }), netConnect({ port, host: '127.0.0.1' })]
      for (const filler of fillers) filler.on('error', () => undefined)
      await new Promise((resolve) => setTimeout(resolve, 200))
      const errors: string[] = []
      const forward = await startReverseForward({
        ssh,
        remotePort: 0,
        localPort: port,
        connectTimeoutMs: 500,
        logger: noopLogger,
        onLocalError: (error) => errors.push(error.code ?? ''),
      })
      try {
        const started = Date.now()
        const result = await call(forward.remotePort, 'hello')
        expect(Date.now() - started).toBeLessThan(5_000)
        expect(result.data).toBe('')
        expect(errors).toEqual(['ETIMEDOUT'])
        expect(forward.active).toBe(0)
      } finally {
        await forward.close()
        for (const filler of fillers) filler.destroy()
      }
    } finally {
      stuck.kill()
    }
  })
})
