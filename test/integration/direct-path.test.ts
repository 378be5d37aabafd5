/**
 * The direct data path against the real agent bundle on loopback (the port-forward replaced by a
 * plain TCP connection to the agent's direct port): a dial reaches its target and echoes; a refused
 * target comes back as that error code; a request not signed by the session key is refused by the
 * agent; with no spare connection, or when a transport cannot be opened, the dial goes over the
 * fallback; close() cuts spares and active connections and the agent lets go of its sockets.
 */
import { type Socket, connect as netConnect } from 'node:net'

import { noopLogger } from '@ktx/core'
import {
  DialError,
  type Dialer,
  type DirectDialer,
  createDirectDialer,
  sessionSigner,
} from '@ktx/core/tunnel'
import type { Duplex } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type AgentProcess, makeKey, startAgentProcess } from '../harness/agent-process.js'
import { closeServer, startEchoServer } from '../harness/servers.js'

const key = makeKey()
let agent: AgentProcess
let echo: Awaited<ReturnType<typeof startEchoServer>>
// Sockets the agent holds with no client at all (its listeners, its stdio).
let agentBaseline: number
const dialers: DirectDialer[] = []

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(socket))
    socket.once('error', reject)
  })
}

// A fallback that records what it was asked and hands out a marker stream it never connects.
function recordingFallback(): Dialer & { readonly asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    dial: (host, port) => {
      asked.push(`${host}:${port}`)
      return Promise.reject(new DialError(`${host}:${port}: fallback`, 'EFALLBACK'))
    },
  }
}

function dialer(options: Partial<Parameters<typeof createDirectDialer>[0]> = {}): DirectDialer {
  const made = createDirectDialer({
    open: () => connectTo(agent.directPort),
    sign: sessionSigner(key.privateKey),
    fallback: recordingFallback(),
    spare: 2,
    handshakeTimeoutMs: 5_000,
    log: noopLogger,
    ...options,
  })
  dialers.push(made)
  return made
}

async function echoed(stream: Duplex, text: string): Promise<string> {
  stream.write(text)
  let got = ''
  for await (const chunk of stream) {
    got += (chunk as Buffer).toString()
    if (got.length >= text.length) break
  }
  return got
}

beforeAll(async () => {
  agent = await startAgentProcess(key.publicKey)
  agentBaseline = agent.socketCount()
  echo = await startEchoServer()
})

afterAll(async () => {
  for (const made of dialers) made.close()
  await agent.stop()
  await closeServer(echo.server)
})

describe('the direct data path', () => {
  it('greets, dials a target, carries data both ways', async () => {
    const direct = dialer()
    await direct.proven
    const stream = await direct.dial('127.0.0.1', echo.port)
    expect(await echoed(stream, 'hello over the direct path')).toBe('hello over the direct path')
    expect(direct.active).toBe(1)
    stream.destroy()
    await vi.waitFor(() => expect(direct.active).toBe(0))
  })

  it('a refused target comes back as a DialError with the agent-side code', async () => {
    const direct = dialer()
    await direct.proven
    await expect(direct.dial('127.0.0.1', 1)).rejects.toMatchObject({
      name: 'DialError',
      socketCode: 'ECONNREFUSED',
    })
  })

  it('a request signed by another key is refused by the agent', async () => {
    const direct = dialer({ sign: sessionSigner(makeKey().privateKey) })
    await direct.proven
    await expect(direct.dial('127.0.0.1', echo.port)).rejects.toMatchObject({
      name: 'DialError',
      socketCode: 'EACCES',
    })
    await vi.waitFor(() => expect(agent.logs.join('\n')).toContain('bad signature refused'))
  })

  it('with no spare at hand the dial goes over the fallback', async () => {
    const fallback = recordingFallback()
    const direct = dialer({ spare: 1, fallback, openIntervalMs: 60_000 })
    await direct.proven
    const first = await direct.dial('127.0.0.1', echo.port)
    // The one spare is taken and the next is rationed: this dial must not wait for a port-forward.
    await expect(direct.dial('127.0.0.1', echo.port)).rejects.toMatchObject({ socketCode: 'EFALLBACK' })
    expect(fallback.asked).toEqual([`127.0.0.1:${echo.port}`])
    first.destroy()
  })

  it('an agent without the direct port is not proven; a transport that cannot open uses the fallback', async () => {
    const fallback = recordingFallback()
    const direct = dialer({ open: () => connectTo(agent.sshPort), fallback })
    await expect(direct.proven).rejects.toThrow(/direct-path hello/)
    await expect(direct.dial('127.0.0.1', echo.port)).rejects.toMatchObject({ socketCode: 'EFALLBACK' })
  })

  it('close() cuts spares and active connections; the agent lets go of every socket', async () => {
    for (const earlier of dialers.splice(0)) earlier.close()
    await vi.waitFor(() => expect(agent.socketCount()).toBe(agentBaseline), { timeout: 5_000 })
    const direct = dialer()
    await direct.proven
    await vi.waitFor(() => expect(direct.idle).toBe(2), { timeout: 5_000 })
    const stream = await direct.dial('127.0.0.1', echo.port)
    expect(await echoed(stream, 'x')).toBe('x')
    const closed = new Promise((resolve) => stream.once('close', resolve))
    direct.close()
    await closed
    expect(direct.idle).toBe(0)
    await vi.waitFor(() => expect(agent.socketCount()).toBe(agentBaseline), { timeout: 5_000 })
  })
})
