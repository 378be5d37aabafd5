import type { Server } from 'node:net'

import type { Connection } from 'ssh2'
import { afterEach, describe, expect, it, vi } from 'vitest'

// Keeps each server RemoteForwards creates, so a test can make it fail after it listens.
const created = vi.hoisted(() => [] as Server[])
vi.mock('node:net', async (importOriginal) => {
  const net = await importOriginal<typeof import('node:net')>()
  return {
    ...net,
    createServer: (...args: Parameters<typeof net.createServer>) => {
      const server = net.createServer(...args)
      created.push(server)
      return server
    },
  }
})

const { RemoteForwards } = await import('./remote-forward.js')

afterEach(() => {
  for (const server of created.splice(0)) server.close()
})

describe('a remote forward', () => {
  it('answers tcpip-forward once, and an error after listening neither re-answers nor crashes the agent', async () => {
    const log = vi.fn()
    const forwards = new RemoteForwards({} as Connection, log, () => undefined)
    const accept = vi.fn()
    const reject = vi.fn()
    const accepted = new Promise<void>((resolve) => accept.mockImplementation(() => resolve()))
    forwards.listen({ bindAddr: '127.0.0.1', bindPort: 0 }, accept, reject)
    await accepted
    const server = created[0]!
    const error = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' })
    expect(() => server.emit('error', error)).not.toThrow()
    expect(() => server.emit('error', error)).not.toThrow()
    expect(accept).toHaveBeenCalledTimes(1)
    expect(reject).not.toHaveBeenCalled()
    expect(server.listening).toBe(true)
    expect(log).toHaveBeenCalledWith('warn', expect.stringMatching(/still serving/), expect.anything())
    forwards.closeAll()
  })

  it('refuses a port that is taken, once', async () => {
    const forwards = new RemoteForwards(
      {} as Connection,
      () => undefined,
      () => undefined,
    )
    const first = new Promise<number>((resolve) => {
      forwards.listen({ bindAddr: '127.0.0.1', bindPort: 0 }, (port) => resolve(port ?? 0), undefined)
    })
    const port = await first
    const reject = vi.fn()
    const rejected = new Promise<void>((resolve) => reject.mockImplementation(() => resolve()))
    forwards.listen({ bindAddr: '127.0.0.1', bindPort: port }, vi.fn(), reject)
    await rejected
    expect(reject).toHaveBeenCalledTimes(1)
    forwards.closeAll()
  })
})
