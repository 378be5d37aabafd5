/**
 * Sending DNS questions somewhere and getting answers: over UDP, a socket per query (the machine's
 * original upstream servers, with TCP when an answer is truncated) or over one long-lived TCP stream with
 * pipelined queries (RFC 7766), e.g. to the cluster DNS through the tunnel. Each is a handle with
 * `close()`.
 */
import { randomInt } from 'node:crypto'
import { type Socket as UdpSocket, createSocket } from 'node:dgram'
import { isIPv6, connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'

import { TunnelError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { FrameReader, Packet, type Question, answersQuestion, buildQuery, frame } from './wire.js'

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
  readonly question: Question
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
 * matched by id and question, out of order allowed). A stream that drops takes its in-flight queries with it;
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
        question,
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
    const waiting = stream.pending.get(packet.header.id)
    if (waiting && !answersQuestion(packet, waiting.question)) {
      this.options.logger.debug('DNS answer for another question dropped', { id: packet.header.id })
      return
    }
    waiting?.resolve(packet)
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
 * DNS over UDP to `servers`. Each query goes out on a socket of its own (a fresh source port the
 * system picks, closed with the query), and an answer counts only when it comes from the server's
 * address and port and carries the query's id and question; anything else is dropped and the
 * query keeps waiting. An off-path forger must so guess port and id together, not the id alone
 * (RFC 5452). A truncated answer (TC) is asked again over TCP to the same server.
 */
export function createUdpTransport(options: UdpTransportOptions): DnsTransport {
  const timeoutMs = options.timeoutMs ?? 2_000
  const tcp = new Map<string, DnsTransport>()
  const inFlight = new Set<UdpSocket>()
  let isClosed = false

  const askOne = (server: ServerAddress, question: Question, signal: AbortSignal): Promise<Packet> => {
    const id = randomInt(0, 0x10000)
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4')
    inFlight.add(socket)
    return new Promise<Packet>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        inFlight.delete(socket)
        socket.close()
      }
      const fail = (error: Error): void => {
        finish()
        reject(error)
      }
      const timer = setTimeout(() => {
        fail(
          new DnsTransportError(
            `${server.host}:${server.port} did not answer within ${timeoutMs} ms`,
            'ETIMEOUT',
          ),
        )
      }, timeoutMs)
      const onAbort = (): void => {
        fail(signal.reason as Error)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      socket.on('message', (message, rinfo) => {
        const packet = acceptable(message, rinfo, { server, id, question })
        if (packet === undefined) return
        finish()
        resolve(packet)
      })
      socket.on('error', (error) => {
        fail(
          new DnsTransportError(
            `DNS socket to ${server.host}:${server.port} failed: ${error.message}`,
            'ESEND',
          ),
        )
      })
      socket.send(buildQuery(id, question, { edns: true }), server.port, server.host, (error) => {
        if (error) {
          fail(
            new DnsTransportError(`Cannot send to ${server.host}:${server.port}: ${error.message}`, 'ESEND'),
          )
        }
      })
    })
  }

  // The answer in `message`, or undefined when it is not one to this query from this server.
  const acceptable = (
    message: Buffer,
    rinfo: { readonly address: string; readonly port: number },
    expected: { readonly server: ServerAddress; readonly id: number; readonly question: Question },
  ): Packet | undefined => {
    const { server, id, question } = expected
    if (rinfo.port !== server.port || !sameHost(server.host, rinfo.address)) return undefined
    if (message.length < 12 || message.readUInt16BE(0) !== id) return undefined
    let packet: Packet
    try {
      packet = Packet.parse(message)
    } catch (error) {
      options.logger.debug('Unparsable DNS answer from upstream', { error: messageOf(error) })
      return undefined
    }
    if (!answersQuestion(packet, question)) {
      options.logger.debug('DNS answer for another question dropped', {
        server: server.host,
        name: question.name,
      })
      return undefined
    }
    return packet
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
      for (const socket of inFlight) socket.close()
      inFlight.clear()
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
