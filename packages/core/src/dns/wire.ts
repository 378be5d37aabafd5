/**
 * DNS messages on the wire, on top of dns2's `Packet`: building queries, answering with a given
 * code, and RFC 1035 §4.2.2 / RFC 7766 length-prefixed framing for DNS over TCP.
 */
import { Packet, type Resource } from 'dns2'

export { Packet }

/** What is being asked. Names have no trailing dot. */
export interface Question {
  readonly name: string
  readonly type: number
  readonly class: number
}

/** Response codes ktx uses. */
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const

/** The EDNS UDP payload size ktx advertises (the DNS Flag Day 2020 value). */
export const EDNS_UDP_SIZE = 1232

/** A query message for `question` with id `id`, recursion desired, optionally with an EDNS OPT. */
export function buildQuery(id: number, question: Question, options: { edns?: boolean } = {}): Buffer {
  const packet = new Packet()
  packet.header = new Packet.Header({ id, rd: 1 })
  packet.questions = [new Packet.Question(question.name, question.type, question.class)]
  if (options.edns) {
    const opt: Resource = { ...Packet.Resource.EDNS([], { udpPayloadSize: EDNS_UDP_SIZE }), name: '' }
    packet.additionals = [opt]
  }
  return packet.toBuffer()
}

/** The first question of a message, normalised (lower case, no trailing dot). */
export function questionOf(packet: Packet): Question | undefined {
  const q = packet.questions[0]
  if (!q) return undefined
  return { name: normaliseName(q.name), type: q.type, class: q.class }
}

/**
 * True when `packet` is a response to `question`: QR set and its one question the same name (in
 * any letter case), type and class. A forged answer must get this right as well as the id.
 */
export function answersQuestion(packet: Packet, question: Question): boolean {
  if (packet.header.qr !== 1 || packet.questions.length !== 1) return false
  const echoed = questionOf(packet)
  return (
    echoed?.name === normaliseName(question.name) &&
    echoed.type === question.type &&
    echoed.class === question.class
  )
}

/** Lower case, no trailing dot. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '')
}

/** An empty answer to `request` with `rcode` (SERVFAIL, REFUSED, …). */
export function errorResponse(request: Packet, rcode: number): Packet {
  const response = Packet.createResponseFromRequest(request)
  response.header.ra = 1
  response.header.rcode = rcode
  return response
}

/** Prefixes a message with its 2-byte length (DNS over TCP). */
export function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2)
  length.writeUInt16BE(message.length)
  return Buffer.concat([length, message])
}

/** Splits a TCP byte stream into length-prefixed DNS messages. */
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0)

  /** Adds bytes; returns every message now complete. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const out: Buffer[] = []
    while (this.#buffer.length >= 2) {
      const length = this.#buffer.readUInt16BE(0)
      if (this.#buffer.length < 2 + length) break
      out.push(this.#buffer.subarray(2, 2 + length))
      this.#buffer = this.#buffer.subarray(2 + length)
    }
    return out
  }

  /** Bytes of an incomplete message are waiting. */
  get pending(): boolean {
    return this.#buffer.length > 0
  }
}

/** Smallest TTL among a response's answer records, or of its SOA (negative answers); undefined if none. */
export function minTtl(packet: Packet): number | undefined {
  const ttls = packet.answers.map((r) => r.ttl)
  if (ttls.length === 0) {
    // RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM).
    for (const r of packet.authorities) {
      if (r.type === Packet.TYPE.SOA) ttls.push(Math.min(r.ttl, r.minimum ?? r.ttl))
    }
  }
  return ttls.length === 0 ? undefined : Math.min(...ttls)
}
