/**
 * The local DNS server's brain: for each question, follow the resolver's plan (cluster through the
 * tunnel, or the original upstream), rewrite the answer back to the name that was asked (a query
 * for `web.team-a` is answered as `web.team-a`, not as `web.team-a.svc.cluster.local`), cache it,
 * and coalesce identical questions in flight.
 */
import type { Resource } from 'dns2'

import { messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { DnsCache } from './cache.js'
import type { DnsTransport } from './transport.js'
import { type LookupStep, type ResolverConfig, planLookup } from './resolver.js'
import { Packet, RCODE, answersQuestion, errorResponse, questionOf } from './wire.js'

/** Options of {@link createForwarder}. */
export interface ForwarderOptions {
  /** Read on every question, so namespace lists can be refreshed while running. */
  readonly config: () => ResolverConfig
  /** The cluster DNS, through the tunnel. */
  readonly cluster: DnsTransport
  /** The machine's original resolvers; undefined when there are none (cluster names only). */
  readonly upstream: DnsTransport | undefined
  readonly cache?: DnsCache
  readonly logger: Logger
}

/** Answers one request message. Never rejects: failures become SERVFAIL. */
export type DnsRequestHandler = (request: Packet) => Promise<Packet>

/** Builds the request handler the DNS server calls. */
export function createForwarder(options: ForwarderOptions): DnsRequestHandler {
  const cache = options.cache ?? new DnsCache()
  const log = options.logger.child({ component: 'dns' })
  const inFlight = new Map<string, Promise<Packet>>()

  const resolve = async (key: string, name: string, type: number, cls: number): Promise<Packet> => {
    const plan = planLookup(name, options.config())
    let last: { step: LookupStep; answer: Packet } | undefined
    let lastError: unknown
    for (const step of plan) {
      const exchange = step.target === 'cluster' ? options.cluster : options.upstream
      if (!exchange) continue
      try {
        const started = performance.now()
        const asked = { name: step.name, type, class: cls }
        const answer = await exchange.query(asked)
        // Cached and handed to every caller: never an answer to some other question.
        if (!answersQuestion(answer, asked)) throw new Error(`answer to another question than ${step.name}`)
        log.debug('DNS lookup', {
          name: step.name,
          type,
          target: step.target,
          rcode: answer.header.rcode,
          answers: answer.answers.length,
          ms: Math.round(performance.now() - started),
        })
        last = { step, answer }
        if (answer.header.rcode === RCODE.NOERROR) break
        if (answer.header.rcode !== RCODE.NXDOMAIN) lastError = new Error(`rcode ${answer.header.rcode}`)
      } catch (error) {
        lastError = error
        log.debug('DNS lookup failed', { name: step.name, target: step.target, error: messageOf(error) })
      }
    }
    if (
      !last ||
      (last.answer.header.rcode !== RCODE.NOERROR && last.answer.header.rcode !== RCODE.NXDOMAIN)
    ) {
      log.debug('No usable DNS answer', { name, error: messageOf(lastError) })
      const failed = new Packet()
      failed.header = new Packet.Header({ qr: 1, ra: 1, rcode: last?.answer.header.rcode ?? RCODE.SERVFAIL })
      return failed
    }
    const result = new Packet()
    result.header = new Packet.Header({
      qr: 1,
      ra: 1,
      aa: last.answer.header.aa,
      rcode: last.answer.header.rcode,
    })
    result.answers = rename(last.answer.answers, last.step.name, name)
    result.authorities = last.answer.authorities
    result.additionals = last.answer.additionals.filter((r) => r.type !== Packet.TYPE.EDNS)
    cache.set(key, result)
    return result
  }

  return async (request) => {
    const question = questionOf(request)
    if (!question || request.header.opcode !== 0) return errorResponse(request, RCODE.NOTIMP)
    const key = DnsCache.key(question.name, question.type, question.class)
    const cached = cache.get(key)
    let answer: Packet
    if (cached) answer = cached
    else {
      let pending = inFlight.get(key)
      if (!pending) {
        pending = resolve(key, question.name, question.type, question.class).finally(() =>
          inFlight.delete(key),
        )
        inFlight.set(key, pending)
      }
      answer = await pending
    }
    return respond(request, answer)
  }
}

// Copies an answer into a response to this request: its id, its question (with the client's
// exact spelling, which 0x20-randomising clients check), the answer's records.
function respond(request: Packet, answer: Packet): Packet {
  const response = Packet.createResponseFromRequest(request)
  response.header.ra = 1
  response.header.aa = answer.header.aa
  response.header.rcode = answer.header.rcode
  const asked = request.questions[0]?.name ?? ''
  response.answers = rename(answer.answers, normalised(asked), asked)
  response.authorities = answer.authorities
  response.additionals = answer.additionals
  return response
}

// Records owned by `from` are given the owner `to`; others (CNAME targets and their records) stay.
function rename(records: readonly Resource[], from: string, to: string): Resource[] {
  const key = normalised(from)
  return records.map((record) => (normalised(record.name) === key ? { ...record, name: to } : record))
}

function normalised(name: string): string {
  return name.toLowerCase().replace(/\.$/, '')
}
