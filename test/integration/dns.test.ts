/**
 * ktx's local DNS server with real sockets on loopback, no root and no cluster: a fake upstream
 * (UDP, like the laptop's dnsmasq: `*.public.test` only) and a fake cluster DNS (TCP) reached
 * through a real SOCKS5 server from `@ktx/core`, the way the tunnel carries it.
 */
import { Resolver } from 'node:dns/promises'
import { type Socket, connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'

import { noopLogger } from '@ktx/core'
import {
  type DnsTransport,
  type DnsServer,
  Packet,
  createForwarder,
  createStreamTransport,
  createUdpTransport,
  startDnsServer,
} from '@ktx/core/dns'
import { type Socks5Server, socks5Connect, startSocks5 } from '@ktx/core/tunnel'
import { TCPClient, createTCPServer, createUDPServer, type TCPServer, type UDPServer } from 'dns2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { isListening } from '../harness/servers.js'

const CLUSTER_DNS_IP = '10.96.0.10'

type Records = Record<string, string[]>

/** A DNS answer for `request` from `records` (A only); NXDOMAIN with an SOA otherwise. */
function answer(request: Packet, records: Records, zone: string): Packet {
  const response = Packet.createResponseFromRequest(request)
  const question = request.questions[0]!
  const addresses = records[question.name.toLowerCase()]
  if (!addresses) {
    response.header.rcode = 3
    response.authorities.push({
      ...new Packet.Resource(zone, Packet.TYPE.SOA, Packet.CLASS.IN, 30),
      primary: `ns.${zone}`,
      admin: `hostmaster.${zone}`,
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expiration: 86400,
      minimum: 30,
    })
  } else if (question.type === Packet.TYPE.A) {
    for (const address of addresses) {
      response.answers.push({
        ...new Packet.Resource(question.name, Packet.TYPE.A, Packet.CLASS.IN, 5),
        address,
      })
    }
  }
  return response
}

let upstream: UDPServer
let upstreamPort: number
const upstreamAsked: string[] = []

let cluster: TCPServer
let clusterPort: number
const clusterAsked: string[] = []
let clusterConnections = 0
let clusterDelayMs = 0
const openClusterSockets = new Set<Socket>()

let socks: Socks5Server
const socksDials: string[] = []
let clusterExchange: DnsTransport
let upstreamExchange: DnsTransport
let server: DnsServer
let resolver: Resolver

beforeAll(async () => {
  upstream = createUDPServer((request, send) => {
    const name = request.questions[0]!.name.toLowerCase()
    upstreamAsked.push(name)
    if (name.endsWith('.public.test')) void send(answer(request, { [name]: ['203.0.113.10'] }, 'public.test'))
    else {
      const refused = Packet.createResponseFromRequest(request)
      refused.header.rcode = 5
      void send(refused)
    }
  })
  await upstream.listen(0, '127.0.0.1')
  upstreamPort = upstream.address().port

  cluster = createTCPServer((request, send) => {
    clusterAsked.push(request.questions[0]!.name.toLowerCase())
    const reply = (): void => {
      void send(
        answer(
          request,
          {
            'web.team-a.svc.cluster.local': ['10.96.0.20'],
            'db.team-a.svc.cluster.local': ['10.244.0.9', '10.244.0.10'],
            'api.team-b.svc.cluster.local': ['10.96.0.30'],
            'kubernetes.default.svc.cluster.local': ['10.96.0.1'],
          },
          'cluster.local',
        ),
      )
    }
    if (clusterDelayMs > 0) setTimeout(reply, clusterDelayMs)
    else reply()
  })
  cluster.on('connection', (socket: Socket) => {
    clusterConnections += 1
    openClusterSockets.add(socket)
    socket.once('close', () => openClusterSockets.delete(socket))
  })
  await new Promise<void>((resolve) => cluster.listen(0, '127.0.0.1', resolve))
  clusterPort = (cluster.address() as { port: number }).port

  // The "tunnel": a SOCKS5 server whose dials to the cluster DNS IP reach the fake cluster DNS.
  socks = await startSocks5({
    logger: noopLogger,
    dialer: {
      dial(host, port): Promise<Duplex> {
        socksDials.push(`${host}:${port}`)
        const target = host === CLUSTER_DNS_IP && port === 53 ? clusterPort : port
        return new Promise((resolve, reject) => {
          const socket: Socket = netConnect({ host: '127.0.0.1', port: target })
          socket.once('connect', () => resolve(socket))
          socket.once('error', reject)
        })
      },
    },
  })

  clusterExchange = createStreamTransport({
    connect: (signal) =>
      socks5Connect({ proxyHost: socks.host, proxyPort: socks.port, host: CLUSTER_DNS_IP, port: 53, signal }),
    logger: noopLogger,
    timeoutMs: 3_000,
  })
  upstreamExchange = createUdpTransport({
    servers: [{ host: '127.0.0.1', port: upstreamPort }],
    logger: noopLogger,
  })
  server = await startDnsServer({
    host: '127.0.0.1',
    port: 0,
    logger: noopLogger,
    handle: createForwarder({
      config: () => ({
        clusterDomain: 'cluster.local',
        searchNamespaces: ['team-a'],
        namespaces: new Set(['team-a', 'team-b', 'default']),
      }),
      cluster: clusterExchange,
      upstream: upstreamExchange,
      logger: noopLogger,
    }),
  })
  resolver = new Resolver({ timeout: 5_000, tries: 1 })
  resolver.setServers([`127.0.0.1:${server.port}`])
})

afterAll(async () => {
  await server.close()
  await clusterExchange.close()
  await upstreamExchange.close()
  await socks.close()
  await new Promise<void>((resolve) => cluster.close(() => resolve()))
  upstream.close()
})

describe('local DNS server (UDP and TCP, real sockets)', () => {
  it('answers svc, svc.ns, svc.ns.svc and the FQDN from the cluster, under the name asked', async () => {
    expect(await resolver.resolve4('web')).toEqual(['10.96.0.20'])
    expect(await resolver.resolve4('web.team-a')).toEqual(['10.96.0.20'])
    expect(await resolver.resolve4('api.team-b')).toEqual(['10.96.0.30'])
    expect(await resolver.resolve4('web.team-a.svc')).toEqual(['10.96.0.20'])
    expect(await resolver.resolve4('web.team-a.svc.cluster.local')).toEqual(['10.96.0.20'])
    // Every cluster lookup went through the SOCKS5 server to the cluster DNS IP.
    expect(new Set(socksDials)).toEqual(new Set([`${CLUSTER_DNS_IP}:53`]))
  })

  it('returns every pod IP of a headless Service', async () => {
    expect((await resolver.resolve4('db.team-a.svc.cluster.local')).sort()).toEqual([
      '10.244.0.10',
      '10.244.0.9',
    ])
  })

  it('answers over TCP too', async () => {
    const tcp = TCPClient({ dns: '127.0.0.1', port: server.port })
    const response = await tcp('web.team-a.svc.cluster.local', 'A')
    expect(response.answers.map((a) => a.address)).toEqual(['10.96.0.20'])
  })

  it('sends public names only upstream: the cluster is never asked, even while it is slow', async () => {
    clusterDelayMs = 2_000
    const asked = clusterAsked.length
    try {
      const started = performance.now()
      expect(await resolver.resolve4('x.public.test')).toEqual(['203.0.113.10'])
      expect(performance.now() - started).toBeLessThan(500)
      expect(clusterAsked.length).toBe(asked)
      expect(upstreamAsked).toContain('x.public.test')
    } finally {
      clusterDelayMs = 0
    }
  })

  it('says NXDOMAIN for a cluster name that does not exist', async () => {
    await expect(resolver.resolve4('nothing.team-a.svc.cluster.local')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    })
  })

  it('pipelines concurrent cluster lookups on one connection through the tunnel', async () => {
    const before = clusterConnections
    const names = Array.from({ length: 20 }, (_, i) => `n${i}.team-a.svc.cluster.local`)
    await Promise.allSettled(names.map((name) => resolver.resolve4(name)))
    expect(clusterAsked).toEqual(expect.arrayContaining(names))
    expect(clusterConnections - before).toBeLessThanOrEqual(1)
  })

  it('serves repeated questions from its cache', async () => {
    await resolver.resolve4('kubernetes.default')
    const asked = clusterAsked.filter((n) => n === 'kubernetes.default.svc.cluster.local').length
    await resolver.resolve4('kubernetes.default')
    expect(clusterAsked.filter((n) => n === 'kubernetes.default.svc.cluster.local').length).toBe(asked)
  })

  it('retries on a fresh connection when the cluster DNS dropped the idle one', async () => {
    expect(openClusterSockets.size).toBeGreaterThan(0)
    const before = clusterConnections
    // What CoreDNS does to an idle client: close the connection from its side.
    for (const socket of openClusterSockets) socket.destroy()
    expect(await resolver.resolve4('api.team-b.svc.cluster.local')).toEqual(['10.96.0.30'])
    expect(clusterConnections).toBe(before + 1)
  })
})

describe('close()', () => {
  it('frees the port for UDP and TCP', async () => {
    const probe = await startDnsServer({
      port: 0,
      logger: noopLogger,
      handle: () => Promise.reject(new Error('x')),
    })
    expect(await isListening(probe.port)).toBe(true)
    await probe.close()
    expect(await isListening(probe.port)).toBe(false)
    const again = await startDnsServer({
      port: probe.port,
      logger: noopLogger,
      handle: () => Promise.reject(new Error('x')),
    })
    await again.close()
  })

  it('answers SERVFAIL when the handler throws', async () => {
    const failing = await startDnsServer({
      port: 0,
      logger: noopLogger,
      handle: () => Promise.reject(new Error('boom')),
    })
    const r = new Resolver({ timeout: 2_000, tries: 1 })
    r.setServers([`127.0.0.1:${failing.port}`])
    await expect(r.resolve4('anything.test')).rejects.toMatchObject({ code: 'ESERVFAIL' })
    await failing.close()
  })

  it('names the address when the port is taken', async () => {
    await expect(
      startDnsServer({ port: server.port, logger: noopLogger, handle: () => Promise.reject(new Error('x')) }),
    ).rejects.toMatchObject({
      code: 'KTX_LISTEN_FAILED',
      message: `Cannot listen for DNS on 127.0.0.1:${server.port}: EADDRINUSE`,
    })
  })
})
