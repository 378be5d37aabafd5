/**
 * Many and long-lived connections through the reverse path, and no sockets left behind in the
 * shadow pod (ktctl's #382: `CLOSE_WAIT` sockets piled up in the shadow until "too many open
 * files"). While one keep-alive connection carries a request every 20 s for more than two minutes,
 * 200 callers connect at once: 125 complete requests, 25 reset the connection mid-response, 25
 * half-close right after their request (and still get the answer) and 25 connect and leave at once
 * (as TCP health checks do). Afterwards the shadow pod's TCP table (read from /proc inside
 * the pod) has no CLOSE_WAIT and the agent holds exactly the descriptors it held before.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type ClusterEnv, kubectl, run } from '../harness/cluster.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  nodeInCluster,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'exload', shadowImage: true })
const env: ClusterEnv = suite.env
let laptop: LaptopServers

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  laptop = await startLaptopServers(env, ['laptop'])
})

afterAll(async () => {
  // Missing when the set-up failed half-way (suiteFixture deletes the namespace regardless).
  await (laptop as LaptopServers | undefined)?.close()
})

interface SocketStats {
  /** Count per TCP state name, from /proc/net/tcp{,6} of the pod's network namespace. */
  readonly states: Record<string, number>
  /** Open descriptors of the agent (PID 1 of the container). */
  readonly fds: number
}

const STATE_NAMES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
}

// Runs inside the shadow pod (its image has node): the pod's TCP table and the agent's fd count.
const STATS_SCRIPT = `
const fs = require('fs')
const states = {}
for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
  let text = ''
  try { text = fs.readFileSync(file, 'utf8') } catch { continue }
  for (const line of text.trim().split('\\n').slice(1)) {
    const st = line.trim().split(/\\s+/)[3]
    states[st] = (states[st] || 0) + 1
  }
}
console.log(JSON.stringify({ states, fds: fs.readdirSync('/proc/1/fd').length }))
`

async function shadowStats(pod: string): Promise<SocketStats> {
  const out = await kubectl(env, [
    '-n',
    suite.namespace,
    'exec',
    pod,
    '--',
    '/usr/local/bin/node',
    '-e',
    STATS_SCRIPT,
  ])
  const raw = JSON.parse(out) as { states: Record<string, number>; fds: number }
  const states = Object.fromEntries(
    Object.entries(raw.states).map(([hex, n]) => [STATE_NAMES[hex] ?? hex, n]),
  )
  return { states, fds: raw.fds }
}

// The kubelet's readiness probe opens a connection to the agent every second; the baseline is the
// quietest of a few samples, so a probe caught in flight does not count as the agent's own.
async function quietStats(pod: string): Promise<SocketStats> {
  const samples = [
    await shadowStats(pod),
    await shadowStats(pod),
    await shadowStats(pod),
    await shadowStats(pod),
  ]
  return samples.reduce((a, b) =>
    b.fds + (b.states.ESTABLISHED ?? 0) < a.fds + (a.states.ESTABLISHED ?? 0) ? b : a,
  )
}

// One keep-alive socket, a request every GAP ms, ROUNDS times: prints what it saw.
const LONG_LIVED = (rounds: number, gapMs: number) => `
const http = require('http')
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
let ok = 0, reused = 0
const errors = []
const get = () => new Promise((resolve) => {
  const req = http.get({ host: 'web', port: 80, path: '/', agent }, (res) => {
    let body = ''
    res.on('data', (c) => (body += c))
    res.on('end', () => { if (body === 'laptop\\n') ok++; if (req.reusedSocket) reused++; resolve() })
  })
  req.on('error', (e) => { errors.push(e.message); resolve() })
})
;(async () => {
  const started = Date.now()
  for (let i = 0; i < ${rounds}; i++) {
    await get()
    if (i < ${rounds} - 1) await new Promise((r) => setTimeout(r, ${gapMs}))
  }
  agent.destroy()
  console.log(JSON.stringify({ ok, reused, errors, seconds: Math.round((Date.now() - started) / 1000) }))
})()
`

// 200 callers at once: 125 full requests, 25 that reset mid-response, 25 that send a request and
// half-close at once (the answer must still arrive), 25 that connect and leave at once.
const CROWD = `
const http = require('http')
const net = require('net')
const full = () => new Promise((resolve) => {
  const req = http.get({ host: 'web', port: 80, path: '/', agent: false }, (res) => {
    let body = ''
    res.on('data', (c) => (body += c))
    res.on('end', () => resolve(body === 'laptop\\n'))
  })
  req.on('error', () => resolve(false))
})
const reset = () => new Promise((resolve) => {
  const s = net.connect(80, 'web', () => s.write('GET / HTTP/1.1\\r\\nHost: web\\r\\n\\r\\n'))
  s.once('data', () => { s.resetAndDestroy(); resolve(true) })
  s.on('error', () => resolve(false))
})
const halfClose = () => new Promise((resolve) => {
  const s = net.connect(80, 'web', () => s.end('GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n'))
  let reply = ''
  s.on('data', (c) => (reply += c))
  s.on('close', () => resolve(reply.startsWith('HTTP/1.1 200') && reply.includes('laptop\\n')))
  s.on('error', () => resolve(false))
})
const leave = () => new Promise((resolve) => {
  const s = net.connect(80, 'web', () => s.end())
  s.resume()
  s.on('close', () => resolve(true))
  s.on('error', () => resolve(false))
})
Promise.all([
  ...Array.from({ length: 125 }, full),
  ...Array.from({ length: 25 }, reset),
  ...Array.from({ length: 25 }, halfClose),
  ...Array.from({ length: 25 }, leave),
]).then((r) => console.log(JSON.stringify({ full: r.slice(0, 125).filter(Boolean).length, others: r.slice(125).filter(Boolean).length })))
`

describe('negative control: without ktx', () => {
  it('callers in the cluster cannot reach the laptop', async () => {
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
  })
})

describe('the reverse path under load', () => {
  it(
    'carries 200 concurrent connections and one for minutes, and leaves no socket behind in the pod',
    { timeout: 420_000 },
    async () => {
      const ktx = startKtxExchange(env, [
        'web',
        '-n',
        suite.namespace,
        '--expose',
        `${laptop.ports[0]!}:8080`,
        '--image',
        env.SHADOW_IMAGE,
      ])
      try {
        await ktx.ready
        const pod = (
          await kubectl(env, [
            '-n',
            suite.namespace,
            'get',
            'pods',
            '-l',
            'ktx.dev/role=exchange',
            '-o',
            'jsonpath={.items[0].metadata.name}',
          ])
        ).trim()
        // ktx's own routing probes (ClusterIP → shadow) finish closing first; then the baseline.
        await vi.waitFor(
          async () => {
            const settling = await shadowStats(pod)
            expect((settling.states.CLOSE_WAIT ?? 0) + (settling.states.LAST_ACK ?? 0)).toBe(0)
          },
          { timeout: 30_000, interval: 500 },
        )
        const before = await quietStats(pod)

        // 8 requests 20 s apart: one socket open for 140 s.
        const longLived = nodeInCluster(env, suite.namespace, LONG_LIVED(8, 20_000), 300_000)

        const crowd = await nodeInCluster(env, suite.namespace, CROWD, 120_000)
        expect(crowd.stderr).toBe('')
        expect(JSON.parse(crowd.stdout)).toEqual({ full: 125, others: 75 })

        // Once the crowd is gone, the pod holds only the agent's own sockets and the long-lived one.
        await vi.waitFor(
          async () => {
            const now = await shadowStats(pod)
            expect(now.states.CLOSE_WAIT ?? 0).toBe(0)
            expect(now.states.LAST_ACK ?? 0).toBe(0)
            expect(now.states.ESTABLISHED ?? 0).toBe((before.states.ESTABLISHED ?? 0) + 1)
            expect(now.fds).toBe(before.fds + 1)
          },
          { timeout: 60_000, interval: 1_000 },
        )

        const result = await longLived
        expect(result.stderr).toBe('')
        const seen = JSON.parse(result.stdout) as {
          ok: number
          reused: number
          errors: string[]
          seconds: number
        }
        expect(seen).toMatchObject({ ok: 8, reused: 7, errors: [] })
        expect(seen.seconds).toBeGreaterThanOrEqual(140)

        await vi.waitFor(
          async () => {
            const after = await shadowStats(pod)
            expect(after.states.CLOSE_WAIT ?? 0).toBe(0)
            expect(after.states.ESTABLISHED ?? 0).toBe(before.states.ESTABLISHED ?? 0)
            expect(after.fds).toBe(before.fds)
          },
          { timeout: 60_000, interval: 1_000 },
        )
        // Nor on the laptop side: no connection half-closed and forgotten by ktx.
        const laptopCloseWait = await run('ip', [
          'netns',
          'exec',
          env.LAPTOP_NETNS,
          'ss',
          '-Htan',
          'state',
          'close-wait',
          `( sport = :${laptop.ports[0]!} or dport = :${laptop.ports[0]!} )`,
        ])
        expect(laptopCloseWait.stdout.trim()).toBe('')
      } finally {
        ktx.child.kill('SIGINT')
        await ktx.exited
      }
      expect((await ktx.exited).code).toBe(0)
      await suite.expectNoLeftovers()
    },
  )
})
