import { once } from 'node:events'
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net'
import { Duplex } from 'node:stream'

import { afterEach, describe, expect, it } from 'vitest'

import { joinStreams } from './pipe.js'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer(onConnection)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

describe('joinStreams', () => {
  it('delivers every byte a peer wrote before it closed, even to a slow reader', async () => {
    const payload = Buffer.alloc(8 << 20, 7)
    const targetPort = await listen((socket) => {
      socket.end(payload)
    })
    let relayClosed: Promise<void> = Promise.resolve()
    const relayPort = await listen((inbound) => {
      const outbound = connect(targetPort, '127.0.0.1')
      relayClosed = new Promise((resolve) => {
        joinStreams(inbound, outbound, () => {
          resolve()
        })
      })
    })
    const client = connect(relayPort, '127.0.0.1')
    client.pause()
    await once(client, 'connect')
    // Let the target finish and close while the relay still holds bytes the client has not read.
    await new Promise((resolve) => setTimeout(resolve, 200))
    let received = 0
    client.on('data', (chunk: Buffer) => (received += chunk.length))
    client.resume()
    await once(client, 'end')
    expect(received).toBe(payload.length)
    client.destroy()
    await relayClosed
  })

  it('lets a partner with a deep write queue (like an SSH channel) flush after the other side closed', async () => {
    const payload = Buffer.alloc(1 << 20, 7)
    const targetPort = await listen((socket) => {
      socket.end(payload)
    })
    const delivered: Buffer[] = []
    // Accepts writes into a deep queue and drains it slowly, the way an SSH channel waits for window.
    const channel = new Duplex({
      writableHighWaterMark: 4 << 20,
      read() {
        // Readable data is pushed by final(), not pulled.
      },
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          delivered.push(chunk)
          callback()
        }, 1)
      },
      final(callback) {
        this.push(null)
        callback()
      },
    })
    const closed = new Promise<void>((resolve) => {
      joinStreams(connect(targetPort, '127.0.0.1'), channel, () => {
        resolve()
      })
    })
    await closed
    expect(Buffer.concat(delivered).length).toBe(payload.length)
  })

  it('cuts both sides when one is reset', async () => {
    const targetPort = await listen((socket) => {
      socket.resetAndDestroy()
    })
    const closed = new Promise<void>((resolve) => {
      void listen((inbound) => {
        joinStreams(inbound, connect(targetPort, '127.0.0.1'), () => {
          resolve()
        })
      }).then((relayPort) => connect(relayPort, '127.0.0.1').on('error', () => undefined))
    })
    await closed
  })
})
