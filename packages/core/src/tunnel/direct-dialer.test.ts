import type { Duplex } from 'node:stream'

import { describe, expect, it, vi } from 'vitest'

import { noopLogger } from '../logger.js'
import { streamPair } from '../testing/stream-pair.js'
import { DialError, type Dialer } from './dialer.js'
import { type DirectDialer, createDirectDialer } from './direct-dialer.js'
import { encodeHello } from './direct-protocol.js'

// In-memory transports whose far end greets like an agent and then says nothing: a request on one
// waits for an answer that never comes.
interface FakeAgent {
  readonly open: () => Promise<Duplex>
  readonly transports: Duplex[]
  /** Bytes each transport's far end received. */
  readonly received: number[]
}

function fakeAgent(): FakeAgent {
  const transports: Duplex[] = []
  const received: number[] = []
  return {
    transports,
    received,
    open: () => {
      const [near, far] = streamPair()
      const index = received.push(0) - 1
      far.on('data', (chunk: Buffer) => (received[index]! += chunk.length))
      far.write(encodeHello(Buffer.alloc(32, 1)))
      transports.push(near)
      return Promise.resolve(near)
    },
  }
}

function fallback(): Dialer & { readonly asked: number } {
  let asked = 0
  return {
    get asked() {
      return asked
    },
    dial: (host, port) => {
      asked += 1
      return Promise.reject(new DialError(`${host}:${port}: fallback`, 'EFALLBACK'))
    },
  }
}

function dialer(agent: FakeAgent, via: Dialer): DirectDialer {
  return createDirectDialer({
    open: agent.open,
    sign: () => Buffer.alloc(64),
    fallback: via,
    spare: 1,
    handshakeTimeoutMs: 60_000,
    openIntervalMs: 60_000,
    log: noopLogger,
  })
}

describe('createDirectDialer', () => {
  it('a spare whose transport errors while it waits is dropped; nothing is thrown', async () => {
    const agent = fakeAgent()
    const via = fallback()
    const direct = dialer(agent, via)
    await direct.proven
    agent.transports[0]!.destroy(new Error('error forwarding port: connection reset'))
    await vi.waitFor(() => expect(direct.idle).toBe(0))
    await expect(direct.dial('web', 80)).rejects.toMatchObject({ socketCode: 'EFALLBACK' })
    expect(via.asked).toBe(1)
    direct.close()
  })

  it('a spare the far side ended (a paused stream shows no close) is dropped at once', async () => {
    const agent = fakeAgent()
    const via = fallback()
    const direct = dialer(agent, via)
    await direct.proven
    // What a port-forward does when its WebSocket closes: its readable ends and it ends its writes.
    agent.transports[0]!.end()
    // Not after its 5-minute age: a pool of dead spares would never refill.
    await vi.waitFor(() => expect(direct.idle).toBe(0))
    await expect(direct.dial('web', 80)).rejects.toMatchObject({ socketCode: 'EFALLBACK' })
    expect(via.asked).toBe(1)
    expect(agent.received[0]).toBe(0)
  })

  it('close() cuts a dial waiting for its reply', async () => {
    const agent = fakeAgent()
    const direct = dialer(agent, fallback())
    await direct.proven
    const dialing = direct.dial('web', 80)
    await vi.waitFor(() => expect(agent.received[0]).toBeGreaterThan(0))
    direct.close()
    await expect(dialing).rejects.toBeInstanceOf(Error)
    expect(agent.transports[0]!.destroyed).toBe(true)
  })
})
