/**
 * The upstream UDP transport against forged answers, on loopback: every query goes out from its
 * own source port, and an answer is taken only from the server's address and port and only when
 * its question is the one asked (an off-path forger that guessed the id gets nowhere).
 */
import { type RemoteInfo, type Socket, createSocket } from 'node:dgram'

import { noopLogger } from '@ktx/core'
import { type DnsTransport, Packet, createUdpTransport } from '@ktx/core/dns'
import { afterEach, describe, expect, it } from 'vitest'

interface Query {
  readonly packet: Packet
  readonly from: RemoteInfo
}

// A UDP "server" that hands each query to the test instead of answering it.
async function fakeServer(): Promise<{ socket: Socket; port: number; next: () => Promise<Query> }> {
  const socket = createSocket('udp4')
  const waiting: ((q: Query) => void)[] = []
  const queued: Query[] = []
  socket.on('message', (message, from) => {
    const query = { packet: Packet.parse(message), from }
    const take = waiting.shift()
    if (take) take(query)
    else queued.push(query)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const next = (): Promise<Query> => {
    const ready = queued.shift()
    return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve))
  }
  return { socket, port: socket.address().port, next }
}

function answerTo(query: Packet, options: { name?: string; address: string }): Buffer {
  const response = Packet.createResponseFromRequest(query)
  const question = query.questions[0]!
  if (options.name !== undefined) response.questions = [{ ...question, name: options.name }]
  response.answers = [
    {
      ...new Packet.Resource(options.name ?? question.name, Packet.TYPE.A, Packet.CLASS.IN, 30),
      address: options.address,
    },
  ]
  return response.toBuffer()
}

function send(socket: Socket, message: Buffer, to: RemoteInfo): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(message, to.port, to.address, (error) => (error ? reject(error) : resolve()))
  })
}

const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

async function setUp(): Promise<{ server: Awaited<ReturnType<typeof fakeServer>>; transport: DnsTransport }> {
  const server = await fakeServer()
  const transport = createUdpTransport({
    servers: [{ host: '127.0.0.1', port: server.port }],
    timeoutMs: 1_500,
    logger: noopLogger,
  })
  closers.push(
    () => transport.close(),
    () => server.socket.close(),
  )
  return { server, transport }
}

const A = { type: Packet.TYPE.A, class: Packet.CLASS.IN }

describe('upstream DNS over UDP', () => {
  it('sends each query from a source port of its own', async () => {
    const { server, transport } = await setUp()
    const ports = new Set<number>()
    for (const name of ['one.public.test', 'two.public.test', 'three.public.test']) {
      const answered = transport.query({ name, ...A })
      const query = await server.next()
      ports.add(query.from.port)
      await send(server.socket, answerTo(query.packet, { address: '203.0.113.1' }), query.from)
      expect((await answered).answers.map((a) => a.address)).toEqual(['203.0.113.1'])
    }
    expect(ports.size).toBe(3)
  })

  it('ignores an answer from another port, and one for another question, and takes the real one', async () => {
    const { server, transport } = await setUp()
    const forger = createSocket('udp4')
    await new Promise<void>((resolve) => forger.bind(0, '127.0.0.1', resolve))
    closers.push(() => forger.close())

    const answered = transport.query({ name: 'bank.public.test', ...A })
    const query = await server.next()
    // The right id and question, from the wrong port.
    await send(forger, answerTo(query.packet, { address: '198.51.100.66' }), query.from)
    // From the server's port, with the right id, but answering a question nobody asked.
    await send(
      server.socket,
      answerTo(query.packet, { name: 'evil.test', address: '198.51.100.67' }),
      query.from,
    )
    await send(server.socket, answerTo(query.packet, { address: '203.0.113.5' }), query.from)
    const response = await answered
    expect(response.answers.map((a) => a.address)).toEqual(['203.0.113.5'])
  })

  it('a question echoed in another letter case still matches (0x20-style servers)', async () => {
    const { server, transport } = await setUp()
    const answered = transport.query({ name: 'mixed.public.test', ...A })
    const query = await server.next()
    await send(
      server.socket,
      answerTo(query.packet, { name: 'MiXeD.Public.TEST', address: '203.0.113.9' }),
      query.from,
    )
    expect((await answered).answers.map((a) => a.address)).toEqual(['203.0.113.9'])
  })
})
