/**
 * Sending DNS questions somewhere and getting answers: over one UDP socket (the machine's original
 * upstream servers, with TCP when an answer is truncated) or over one long-lived TCP stream with
 * pipelined queries (RFC 7766), e.g. to the cluster DNS through the tunnel. Each is a handle with
 * `close()`.
 */
import { randomInt } from 'node:crypto'
import { type Socket as UdpSocket, createSocket } from 'node:dgram'
import { isIPv6, connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'

import { TunnelError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { FrameReader, Packet, type Question, buildQuery, frame } from './wire.js'

/** Something that answers DNS questions. */
export interface DnsTransport {
  /** Asks `question`; resolves with the parsed response (any rcode). Rejects on no answer. */
  query(question: Question, signal?: AbortSignal): Promise<Packet>
  close(): Promise<void>
}

/** A DNS server address. */
export interface ServerAddress {
  readonly host: string
  readonly port: number
}

/**
 * Why a transport gave no answer (`KTX_DNS_NO_ANSWER`); `reason` is `ETIMEOUT`, `ECONNLOST`,
 * `ENOSERVER`, `ESEND` or a socket error code.
 */
export class DnsTransportError extends TunnelError {
  readonly reason: string
  constructor(message: string, reason: string) {
    super('KTX_DNS_NO_ANSWER', message)
    this.reason = reason
  }
}

/** Options of {@link createStreamTransport}. */
export interface StreamTransportOptions {
  /** Opens a new byte stream to the server (e.g. a SOCKS5 CONNECT to `<dns>:53`). */
  readonly connect: (signal: AbortSignal) => Promise<Duplex>
  /** Per query. Default 5 000 ms. */
  readonly timeoutMs?: number
  /** Close the stream after this long without queries. Default 10 000 ms. */
  readonly idleMs?: number
  readonly logger: Logger
}

interface Pending {
  readonly resolve: (packet: Packet) => void
  readonly reject: (error: Error) => void
}

interface Stream {
  readonly socket: Duplex
  readonly pending: Map<number, Pending>
  idleTimer: NodeJS.Timeout | undefined
}

/**
 * DNS over one TCP stream, opened on first use and reused for every query (pipelined, answers
 * matched by id, out of order allowed). A stream that drops takes its in-flight queries with it;
 * each is retried once on a fresh stream.
 */
export function createStreamTransport(options: StreamTransportOptions): DnsTransport {
  const timeoutMs = options.timeoutMs ?? 5_000
  const closed = new AbortController()
  const slot = new StreamSlot(options, closed.signal)
  const ask = async (question: Question, deadline: AbortSignal): Promise<Packet> =>
    slot.ask(await slot.open(), question, deadline)

  return {
    async query(question, signal) {
      if (closed.signal.aborted) throw new DnsTransportError('DNS exchange closed', 'ECONNLOST')
      const deadline = AbortSignal.any([
        AbortSignal.timeout(timeoutMs),
        closed.signal,
        ...(signal ? [signal] : []),
      ])
      try {
        try {
          return await ask(question, deadline)
        } catch (error) {
          // A stream the server closed while idle, or that broke: one more try on a new one.
          if (error instanceof DnsTransportError && error.reason === 'ECONNLOST' && !deadline.aborted) {
            return await ask(question, deadline)
          }
          throw error
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason
        if (deadline.aborted) {
          throw new DnsTransportError(`No DNS answer for ${question.name} within ${timeoutMs} ms`, 'ETIMEOUT')
        }
        throw error instanceof Error ? error : new Error(String(error))
      }
    },
    async close() {
      closed.abort(new DnsTransportError('DNS exchange closed', 'ECONNLOST'))
      await slot.close()
    },
  }
}

// The one reusable stream: opened on demand (concurrent callers share one attempt), dropped when
// it breaks, ended after `idleMs` without a query in flight.
class StreamSlot {
  private active: Stream | undefined
  private opening: Promise<Stream> | undefined
  private readonly idleMs: number

  constructor(
    private readonly options: StreamTransportOptions,
    private readonly closed: AbortSignal,
  ) {
    this.idleMs = options.idleMs ?? 10_000
  }

  open(): Promise<Stream> {
    if (this.active) return Promise.resolve(this.active)
    this.opening ??= this.options.connect(this.closed).then(
      (socket) => {
        this.opening = undefined
        const stream = this.adopt(socket)
        if (this.closed.aborted) socket.destroy()
        this.active = stream
        return stream
      },
      (error: unknown) => {
        this.opening = undefined
        throw error
      },
    )
    return this.opening
  }

  /** Sends `question` on `stream` and settles with its answer, the stream's loss or `signal`. */
  ask(stream: Stream, question: Question, signal: AbortSignal): Promise<Packet> {
    clearTimeout(stream.idleTimer)
    const id = freeId(stream.pending)
    return new Promise<Packet>((resolve, reject) => {
      const done = (): void => {
        stream.pending.delete(id)
        signal.removeEventListener('abort', onAbort)
        this.armIdle(stream)
      }
      const onAbort = (): void => {
        done()
        reject(signal.reason as Error)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      stream.pending.set(id, {
        resolve: (packet) => {
          done()
          resolve(packet)
        },
        reject: (error) => {
          done()
          reject(error)
        },
      })
      stream.socket.write(frame(buildQuery(id, question)))
    })
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined)
    this.active?.socket.destroy()
  }

  private adopt(socket: Duplex): Stream {
    const stream: Stream = { socket, pending: new Map(), idleTimer: undefined }
    const reader = new FrameReader()
    const lost = (why: string): void => {
      if (this.active === stream) this.active = undefined
      clearTimeout(stream.idleTimer)
      for (const p of stream.pending.values()) p.reject(new DnsTransportError(why, 'ECONNLOST'))
      stream.pending.clear()
    }
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) this.deliver(stream, message)
    })
    socket.on('error', (error) => {
      lost(`DNS stream failed: ${error.message}`)
    })
    socket.on('close', () => {
      lost('DNS stream closed')
    })
    return stream
  }

  private deliver(stream: Stream, message: Buffer): void {
    let packet: Packet
    try {
      packet = Packet.parse(message)
    } catch (error) {
      this.options.logger.debug('Unparsable DNS answer on stream', { error: messageOf(error) })
      return
    }
    stream.pending.get(packet.header.id)?.resolve(packet)
  }

  private armIdle(stream: Stream): void {
    clearTimeout(stream.idleTimer)
    if (stream.pending.size > 0) return
    stream.idleTimer = setTimeout(() => {
      if (stream.pending.size === 0) stream.socket.end()
    }, this.idleMs)
    stream.idleTimer.unref()
  }
}

/** Options of {@link createUdpTransport}. */
export interface UdpTransportOptions {
  /** Tried in order; the next one when one does not answer in time. */
  readonly servers: readonly ServerAddress[]
  /** Per server. Default 2 000 ms. */
  readonly timeoutMs?: number
  readonly logger: Logger
}

/**
 * DNS over UDP to `servers`, on one socket per address family (answers matched by id and
 * source). A truncated answer (TC) is asked again over TCP to the same server.
 */
export function createUdpTransport(options: UdpTransportOptions): DnsTransport {
  const timeoutMs = options.timeoutMs ?? 2_000
  const sockets = new Map<'udp4' | 'udp6', UdpSocket>()
  const pending = new Map<number, { server: ServerAddress; resolve: (p: Packet) => void }>()
  const tcp = new Map<string, DnsTransport>()
  let isClosed = false

  const socketFor = (host: string): UdpSocket => {
    const type = isIPv6(host) ? 'udp6' : 'udp4'
    let socket = sockets.get(type)
    if (!socket) {
      socket = createSocket(type)
      socket.on('message', (message, rinfo) => {
        if (message.length < 12) return
        const waiting = pending.get(message.readUInt16BE(0))
        if (waiting?.server.port !== rinfo.port || !sameHost(waiting.server.host, rinfo.address)) return
        try {
          waiting.resolve(Packet.parse(message))
        } catch (error) {
          options.logger.debug('Unparsable DNS answer from upstream', { error: messageOf(error) })
        }
      })
      socket.on('error', (error) => {
        options.logger.debug('Upstream DNS socket error', { error: error.message })
      })
      sockets.set(type, socket)
    }
    return socket
  }

  const askOne = (server: ServerAddress, question: Question, signal: AbortSignal): Promise<Packet> => {
    const id = freeId(pending)
    return new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish()
        reject(
          new DnsTransportError(
            `${server.host}:${server.port} did not answer within ${timeoutMs} ms`,
            'ETIMEOUT',
          ),
        )
      }, timeoutMs)
      const onAbort = (): void => {
        finish()
        reject(signal.reason as Error)
      }
      const finish = (): void => {
        clearTimeout(timer)
        pending.delete(id)
        signal.removeEventListener('abort', onAbort)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      pending.set(id, {
        server,
        resolve: (packet) => {
          finish()
          resolve(packet)
        },
      })
      socketFor(server.host).send(
        buildQuery(id, question, { edns: true }),
        server.port,
        server.host,
        (error) => {
          if (error) {
            finish()
            reject(
              new DnsTransportError(
                `Cannot send to ${server.host}:${server.port}: ${error.message}`,
                'ESEND',
              ),
            )
          }
        },
      )
    })
  }

  const overTcp = (server: ServerAddress): DnsTransport => {
    const key = `${server.host}:${server.port}`
    let exchange = tcp.get(key)
    if (!exchange) {
      exchange = createStreamTransport({
        connect: () => connectTcp(server),
        timeoutMs,
        logger: options.logger,
      })
      tcp.set(key, exchange)
    }
    return exchange
  }

  return {
    async query(question, signal) {
      if (isClosed) throw new DnsTransportError('DNS exchange closed', 'ECONNLOST')
      const abort = signal ?? new AbortController().signal
      let lastError: unknown = new DnsTransportError('No upstream DNS server configured', 'ENOSERVER')
      for (const server of options.servers) {
        try {
          const answer = await askOne(server, question, abort)
          if (answer.header.tc) return await overTcp(server).query(question, signal)
          return answer
        } catch (error) {
          if (signal?.aborted) throw signal.reason
          lastError = error
        }
      }
      throw lastError
    },
    async close() {
      isClosed = true
      for (const socket of sockets.values()) socket.close()
      sockets.clear()
      await Promise.all([...tcp.values()].map((e) => e.close()))
    },
  }
}

function connectTcp(server: ServerAddress): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: server.host, port: server.port, noDelay: true })
    socket.once('connect', () => {
      socket.removeListener('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

function sameHost(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '')
}

// A random id not in use, so answers cannot be confused and ids are not guessable.
function freeId(inUse: ReadonlyMap<number, unknown>): number {
  for (;;) {
    const id = randomInt(0, 0x10000)
    if (!inUse.has(id)) return id
  }
}
