import { connect, createServer } from 'node:net'

import { describe, expect, it, vi } from 'vitest'

import { closeServer, listen } from './listen.js'

const emfile = (): NodeJS.ErrnoException => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' })

describe('listen', () => {
  it('rejects a bind error once', async () => {
    const first = createServer()
    const port = await listen(first, '127.0.0.1', 0, () => undefined, 'first')
    const second = createServer()
    await expect(listen(second, '127.0.0.1', port, () => undefined, 'second')).rejects.toMatchObject({
      code: 'EADDRINUSE',
    })
    await closeServer(first)
  })

  it('survives a later server error (EMFILE on accept): logs it and keeps serving', async () => {
    const log = vi.fn()
    const server = createServer((socket) => socket.end('hi'))
    const port = await listen(server, '127.0.0.1', 0, log, 'ssh')
    expect(() => server.emit('error', emfile())).not.toThrow()
    expect(() => server.emit('error', emfile())).not.toThrow()
    expect(log).toHaveBeenCalledTimes(2)
    expect(log).toHaveBeenCalledWith('warn', expect.stringMatching(/still serving/), {
      server: 'ssh',
      port,
      code: 'EMFILE',
      error: 'accept EMFILE',
    })
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let data = ''
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    expect(reply).toBe('hi')
    await closeServer(server)
  })
})
