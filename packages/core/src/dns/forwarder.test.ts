import { describe, expect, it } from 'vitest'

import { noopLogger } from '../logger.js'
import { DnsCache } from './cache.js'
import { type DnsTransport, DnsTransportError } from './transport.js'
import { createForwarder } from './forwarder.js'
import type { ResolverConfig } from './resolver.js'
import { Packet, type Question, RCODE, buildQuery } from './wire.js'

const config: ResolverConfig = {
  clusterDomain: 'cluster.local',
  searchNamespaces: ['team-a'],
  namespaces: new Set(['team-a']),
}

/** An exchange answering from a table: name → A records (or an rcode). */
function fakeTransport(table: Record<string, string[] | number | Error>): DnsTransport & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    query(question: Question) {
      asked.push(`${question.name}/${question.type}`)
      const entry = table[question.name]
      if (entry instanceof Error) return Promise.reject(entry)
      const response = new Packet()
      response.header = new Packet.Header({
        id: 7,
        qr: 1,
        rcode: typeof entry === 'number' ? entry : entry ? 0 : 3,
      })
      response.questions = [new Packet.Question(question.name, question.type, question.class)]
      if (Array.isArray(entry) && question.type === Packet.TYPE.A) {
        response.answers = entry.map((address) => ({
          ...new Packet.Resource(question.name, Packet.TYPE.A, Packet.CLASS.IN, 30),
          address,
        }))
      }
      if (!entry) {
        response.authorities = [
          {
            ...new Packet.Resource('cluster.local', Packet.TYPE.SOA, Packet.CLASS.IN, 30),
            primary: 'ns.dns.cluster.local',
            admin: 'hostmaster.cluster.local',
            serial: 1,
            refresh: 7200,
            retry: 1800,
            expiration: 86400,
            minimum: 30,
          },
        ]
      }
      return Promise.resolve(response)
    },
    close: () => Promise.resolve(),
  }
}

function request(name: string, type: number = Packet.TYPE.A, id = 4242): Packet {
  return Packet.parse(buildQuery(id, { name, type, class: Packet.CLASS.IN }))
}

describe('forwarder', () => {
  it('answers a short name from the cluster under the name that was asked', async () => {
    const cluster = fakeTransport({ 'web.team-a.svc.cluster.local': ['10.96.0.20'] })
    const upstream = fakeTransport({})
    const handle = createForwarder({ config: () => config, cluster, upstream, logger: noopLogger })
    const response = await handle(request('Web.team-a'))
    expect(response.header).toMatchObject({ id: 4242, qr: 1, ra: 1, rcode: 0 })
    expect(response.questions.map((q) => q.name)).toEqual(['Web.team-a'])
    expect(response.answers.map((a) => [a.name, a.address])).toEqual([['Web.team-a', '10.96.0.20']])
    expect(cluster.asked).toEqual(['web.team-a.svc.cluster.local/1'])
    expect(upstream.asked).toEqual([])
  })

  it('never asks the cluster for a public name', async () => {
    const cluster = fakeTransport({})
    const upstream = fakeTransport({ 'x.public.test': ['203.0.113.10'] })
    const handle = createForwarder({ config: () => config, cluster, upstream, logger: noopLogger })
    const response = await handle(request('x.public.test'))
    expect(response.answers.map((a) => a.address)).toEqual(['203.0.113.10'])
    expect(cluster.asked).toEqual([])
  })

  it('falls through NXDOMAIN and errors to the next lookup, and says NXDOMAIN when all miss', async () => {
    const cluster = fakeTransport({})
    const upstream = fakeTransport({ printer: ['192.168.1.9'] })
    const handle = createForwarder({ config: () => config, cluster, upstream, logger: noopLogger })
    expect((await handle(request('printer'))).answers.map((a) => a.address)).toEqual(['192.168.1.9'])

    const nowhere = createForwarder({
      config: () => config,
      cluster: fakeTransport({}),
      upstream: fakeTransport({ nothing: new DnsTransportError('timeout', 'ETIMEOUT') }),
      logger: noopLogger,
    })
    const miss = await nowhere(request('nothing'))
    // The cluster's NXDOMAIN stands when the upstream gave no answer at all.
    expect(miss.header.rcode).toBe(RCODE.NXDOMAIN)
  })

  it('fails with SERVFAIL when no lookup gives an answer', async () => {
    const handle = createForwarder({
      config: () => config,
      cluster: fakeTransport({ 'web.team-a.svc.cluster.local': new DnsTransportError('lost', 'ECONNLOST') }),
      upstream: fakeTransport({ web: RCODE.REFUSED }),
      logger: noopLogger,
    })
    expect((await handle(request('web'))).header.rcode).toBe(RCODE.REFUSED)
    const none = createForwarder({
      config: () => config,
      cluster: fakeTransport({ 'web.team-a.svc.cluster.local': new DnsTransportError('lost', 'ECONNLOST') }),
      upstream: undefined,
      logger: noopLogger,
    })
    expect((await none(request('web.team-a'))).header.rcode).toBe(RCODE.SERVFAIL)
  })

  it('keeps NOERROR without records (the name exists, not that type) as the answer', async () => {
    const cluster = fakeTransport({ 'web.team-a.svc.cluster.local': ['10.96.0.20'] })
    const upstream = fakeTransport({ web: ['1.2.3.4'] })
    const handle = createForwarder({ config: () => config, cluster, upstream, logger: noopLogger })
    const response = await handle(request('web', Packet.TYPE.AAAA))
    expect(response.header.rcode).toBe(0)
    expect(response.answers).toEqual([])
    expect(upstream.asked).toEqual([])
  })

  it('caches answers and coalesces identical questions in flight', async () => {
    const cluster = fakeTransport({ 'web.team-a.svc.cluster.local': ['10.96.0.20'] })
    let now = 1_000_000
    const cache = new DnsCache({ now: () => now })
    const handle = createForwarder({
      config: () => config,
      cluster,
      upstream: undefined,
      cache,
      logger: noopLogger,
    })
    const [a, b] = await Promise.all([
      handle(request('web.team-a', 1, 1)),
      handle(request('web.team-a', 1, 2)),
    ])
    expect([a.header.id, b.header.id]).toEqual([1, 2])
    expect(cluster.asked).toHaveLength(1)
    now += 10_000
    const c = await handle(request('web.team-a', 1, 3))
    expect(c.answers[0]?.ttl).toBe(20)
    expect(cluster.asked).toHaveLength(1)
    now += 21_000
    await handle(request('web.team-a', 1, 4))
    expect(cluster.asked).toHaveLength(2)
  })

  it('refuses what it does not implement', async () => {
    const handle = createForwarder({
      config: () => config,
      cluster: fakeTransport({}),
      upstream: undefined,
      logger: noopLogger,
    })
    const empty = new Packet()
    empty.header = new Packet.Header({ id: 9 })
    expect((await handle(Packet.parse(empty.toBuffer()))).header.rcode).toBe(RCODE.NOTIMP)
  })
})
