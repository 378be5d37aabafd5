/**
 * The soak: `ktx connect --mode socks` and `ktx exchange` held for SOAK_MINUTES (default 30)
 * under steady request load — the laptop through the SOCKS proxy to a cluster Service, a cluster
 * pod to the exchanged Service — with a fault every SOAK_FAULT_EVERY_S seconds (default 180):
 * the shadow pods deleted, and every connection of the two ktx processes to the API server reset;
 * with SOAK_DISRUPTIVE=1 also the laptop cut from the API server for 10 s and kube-apiserver and
 * kubelet restarts (which disturb anyone else using the laptop namespace or the cluster). Prints the errors and recovery time per fault, and the ktx objects, sockets, file
 * descriptors and RSS of both ktx processes before and after; fails on any leak.
 * Run with `npm run soak` (root, the test cluster up); not part of CI.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, expect, it } from 'vitest'

import { MANAGED_SELECTOR } from '@ktx/core/contract'

import { type ClusterEnv, deployWeb, inLaptop, kubectl, run } from '../harness/cluster.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  runKtx,
  specOf,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { type RunningKtx, type RunningVerb, spawnInLaptop, startKtxConnect } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30)
const FAULT_EVERY_S = Number(process.env.SOAK_FAULT_EVERY_S ?? 180)
const DISRUPTIVE = process.env.SOAK_DISRUPTIVE === '1'
const RATE = 10
const LAPTOP_BODY = 'soak: answered by the laptop'
const RESTART = fileURLToPath(new URL('../cluster/restart.sh', import.meta.url))
const LOAD = fileURLToPath(new URL('./load.mjs', import.meta.url))

const suite = suiteFixture({
  namespace: 'soak',
  shadowImage: true,
  negativeControl: { unreachable: () => [`http://api.${suite.namespace}/`] },
})
const env: ClusterEnv = suite.env
const API_DROP = ['-d', env.CLUSTER_NODE_IP, '-p', 'tcp', '--dport', '6443', '-j', 'DROP']
let laptop: LaptopServers
let connect: RunningKtx
let exchange: RunningVerb

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  await deployWeb(env, suite.namespace, 'api', { replicas: 1, body: 'soak api' })
  laptop = await startLaptopServers(env, [LAPTOP_BODY])
})

afterAll(async () => {
  for (const session of [connect, exchange] as (RunningVerb | RunningKtx | undefined)[]) {
    if (session?.child.exitCode === null) session.child.kill('SIGKILL')
  }
  await inLaptop(env, 'iptables', ['-D', 'OUTPUT', ...API_DROP])
  await runKtx(env, ['clean', '-n', suite.namespace])
  await (laptop as LaptopServers | undefined)?.close()
})

interface ProcessFigures {
  readonly fds: number
  readonly sockets: number
  readonly rssMiB: number
}

function figuresOf(pid: number): ProcessFigures {
  const fds = readdirSync(`/proc/${pid}/fd`)
  const sockets = fds.filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')
    } catch {
      return false
    }
  }).length
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return { fds: fds.length, sockets, rssMiB: Math.round(rssKiB / 102.4) / 10 }
}

async function ktxObjects(): Promise<string[]> {
  const out = await kubectl(env, [
    '-n',
    suite.namespace,
    'get',
    'pods,services,leases.coordination.k8s.io,configmaps',
    '-l',
    MANAGED_SELECTOR,
    '-o',
    'name',
  ])
  return out.split('\n').filter((line) => line !== '')
}

interface Snapshot {
  readonly objects: number
  readonly connect: ProcessFigures
  readonly exchange: ProcessFigures
}

async function snapshot(): Promise<Snapshot> {
  return {
    objects: (await ktxObjects()).length,
    connect: figuresOf(connect.child.pid!),
    exchange: figuresOf(exchange.child.pid!),
  }
}

// One second of each load: successes and failures (laptop → cluster via SOCKS; cluster → laptop).
interface Second {
  readonly t: number
  readonly ok: number
  readonly failed: number
}

function laptopLoad(socksPort: number): { seconds: Second[]; stop(): void } {
  const child = spawnInLaptop(env, LOAD, [String(socksPort), `http://api.${suite.namespace}/`, String(RATE)])
  const seconds: Second[] = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`the laptop load exited (${code}): ${stderr}`)
  })
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) seconds.push(JSON.parse(line) as Second)
  })
  return { seconds, stop: () => child.kill('SIGTERM') }
}

// A pod that asks the exchanged Service every 100 ms and logs one line per answer (`timeout`, not
// wget's -T, which crashes this busybox build).
async function startClusterLoad(): Promise<void> {
  const script = `while true; do if timeout 3 wget -qO- http://web/ 2>/dev/null | grep -q laptop; then echo "$(date +%s) ok"; else echo "$(date +%s) failed"; fi; sleep 0.1; done`
  await kubectl(
    env,
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Pod
metadata: {name: load, namespace: ${suite.namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: load, image: ${env.BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [sh, -c, '${script}']}
`,
  )
  await kubectl(env, ['-n', suite.namespace, 'wait', '--for=condition=Ready', 'pod/load', '--timeout=60s'])
}

async function clusterSeconds(): Promise<Second[]> {
  const logs = await kubectl(env, ['-n', suite.namespace, 'logs', 'load'])
  const bySecond = new Map<number, { ok: number; failed: number }>()
  for (const line of logs.split('\n')) {
    const [t, result] = line.split(' ')
    if (t === undefined || result === undefined) continue
    const entry = bySecond.get(Number(t)) ?? { ok: 0, failed: 0 }
    if (result === 'ok') entry.ok += 1
    else entry.failed += 1
    bySecond.set(Number(t), entry)
  }
  return [...bySecond].map(([t, counts]) => ({ t: t * 1000, ...counts }))
}

const FAULTS: readonly { readonly name: string; readonly inject: () => Promise<void> }[] = [
  {
    name: 'shadow pods deleted',
    inject: async () => {
      await kubectl(env, ['-n', suite.namespace, 'delete', 'pods', '-l', MANAGED_SELECTOR, '--wait=false'])
    },
  },
  { name: "ktx's connections to the API server reset", inject: resetApiConnections },
  ...(DISRUPTIVE
    ? [
        // These cut everyone using the laptop namespace or the cluster, not only the soak.
        {
          name: 'laptop cut from the API server for 10 s',
          inject: async () => {
            await inLaptop(env, 'iptables', ['-I', 'OUTPUT', ...API_DROP])
            await new Promise((resolve) => setTimeout(resolve, 10_000))
            await inLaptop(env, 'iptables', ['-D', 'OUTPUT', ...API_DROP])
          },
        },
        { name: 'kube-apiserver restarted', inject: () => restart('kube-apiserver') },
        { name: 'kubelet restarted', inject: () => restart('kubelet') },
      ]
    : []),
]

// A network reset of just the soak's two ktx processes (every TCP connection they hold to the
// API server: port-forwards, watches), leaving anyone else in the laptop namespace alone.
async function resetApiConnections(): Promise<void> {
  const pids = new Set([connect.child.pid, exchange.child.pid].map(String))
  const listed = await inLaptop(env, 'ss', ['-tnpH', 'dst', env.CLUSTER_NODE_IP, 'dport', '=', ':6443'])
  const ports = listed.stdout
    .split('\n')
    .filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(m[1]!)))
    .map((line) => line.trim().split(/\s+/)[3]?.split(':').at(-1))
    .filter((port): port is string => port !== undefined)
  expect(ports.length, listed.stdout).toBeGreaterThan(0)
  for (const port of ports) {
    await inLaptop(env, 'ss', [
      '-K',
      'dst',
      env.CLUSTER_NODE_IP,
      'dport',
      '=',
      ':6443',
      'sport',
      '=',
      `:${port}`,
    ])
  }
}

async function restart(component: string): Promise<void> {
  const result = await run('bash', [RESTART, component], { timeoutMs: 200_000 })
  if (result.code !== 0) throw new Error(`restart ${component} failed: ${result.stderr}`)
}

// From `at`, the seconds until the load succeeds again with no failure in that second; only
// failures before `until` (the next fault) count.
function recoveredAfter(seconds: readonly Second[], at: number, until: number): number | undefined {
  const failing = seconds.filter((s) => s.t >= at - 1_000 && s.t < until && s.failed > 0)
  if (failing.length === 0) return 0
  const lastFailure = Math.max(...failing.map((s) => s.t))
  const healthy = seconds.find((s) => s.t > lastFailure && s.ok > 0 && s.failed === 0)
  return healthy === undefined ? undefined : (healthy.t - at) / 1000
}

it(
  `holds connect and exchange for ${MINUTES} min under load with a fault every ${FAULT_EVERY_S} s, and leaks nothing`,
  { timeout: (MINUTES + 10) * 60_000 },
  async () => {
    const flags = ['-n', suite.namespace, '--image', env.SHADOW_IMAGE, '--reconnectTimeout', '170']
    const serviceSpec = await specOf(env, suite.namespace, 'service', 'web')
    connect = startKtxConnect(env, flags)
    exchange = startKtxExchange(env, ['web', ...flags, '--expose', `${laptop.ports[0]!}:8080`])
    const { socksPort } = await connect.ready
    await exchange.ready
    const objectsBefore = await ktxObjects()
    const before = await snapshot()

    await startClusterLoad()
    const load = laptopLoad(socksPort)
    const injected: { name: string; at: number }[] = []
    const end = Date.now() + MINUTES * 60_000
    for (let i = 0; Date.now() + FAULT_EVERY_S * 1000 < end; i++) {
      await new Promise((resolve) => setTimeout(resolve, FAULT_EVERY_S * 1000))
      const fault = FAULTS[i % FAULTS.length]!
      injected.push({ name: fault.name, at: Date.now() })
      await fault.inject()
      for (const session of [connect, exchange]) {
        expect(session.child.exitCode, session.output().stderr).toBeNull()
      }
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - Date.now())))
    load.stop()
    const cluster = await clusterSeconds()
    await kubectl(env, ['-n', suite.namespace, 'delete', 'pod', 'load', '--wait=true'])
    // The load's last connections close; the proxies must be back to their idle set.
    await new Promise((resolve) => setTimeout(resolve, 10_000))
    const after = await snapshot()

    // The cluster load's lines carry whole seconds: stop 2 s short of the next fault so its
    // first failures are not counted as this one's (the first 30-min run reported 180 s + the
    // next fault's recovery that way).
    const untilNext = (i: number): number => (injected[i + 1]?.at ?? Date.now()) - 2_000
    const total = (seconds: readonly Second[]): { ok: number; failed: number } =>
      seconds.reduce((sum, s) => ({ ok: sum.ok + s.ok, failed: sum.failed + s.failed }), { ok: 0, failed: 0 })
    const lines = [
      `soak: ${MINUTES} min, a fault every ${FAULT_EVERY_S} s${DISRUPTIVE ? ' (with control-plane restarts)' : ''}`,
      `laptop → cluster (socks, ${RATE}/s, new connection each): ${JSON.stringify(total(load.seconds))}`,
      `cluster → laptop (exchange, ~10/s): ${JSON.stringify(total(cluster))}`,
      ...injected.map(
        (f, i) =>
          `  ${new Date(f.at).toISOString()} ${f.name}: connect back after ${String(recoveredAfter(load.seconds, f.at, untilNext(i)))} s, exchange after ${String(recoveredAfter(cluster, f.at, untilNext(i)))} s`,
      ),
      `tunnel rebuilds: connect ${(connect.output().stderr.match(/^Tunnel back after/gm) ?? []).length}, exchange ${(exchange.output().stderr.match(/^Tunnel back after/gm) ?? []).length}`,
      `ktx objects: before ${before.objects}, after ${after.objects}`,
      `connect process:  before ${JSON.stringify(before.connect)}, after ${JSON.stringify(after.connect)}`,
      `exchange process: before ${JSON.stringify(before.exchange)}, after ${JSON.stringify(after.exchange)}`,
    ]
    console.log(lines.join('\n'))

    // The load ran: most requests worked (faults cost some seconds, never the whole run).
    for (const seconds of [load.seconds, cluster]) {
      const { ok, failed } = total(seconds)
      expect(ok).toBeGreaterThan(failed * 4)
    }
    expect(after.objects).toBe(before.objects)
    expect((await ktxObjects()).length).toBe(objectsBefore.length)
    expect(after.connect.sockets).toBeLessThanOrEqual(before.connect.sockets)
    expect(after.exchange.sockets).toBeLessThanOrEqual(before.exchange.sockets)
    expect(after.connect.fds).toBeLessThanOrEqual(before.connect.fds)
    expect(after.exchange.fds).toBeLessThanOrEqual(before.exchange.fds)
    injected.forEach((f, i) => {
      expect(recoveredAfter(load.seconds, f.at, untilNext(i)), f.name).toBeDefined()
      expect(recoveredAfter(cluster, f.at, untilNext(i)), f.name).toBeDefined()
    })

    connect.child.kill('SIGINT')
    exchange.child.kill('SIGINT')
    expect((await connect.exited).code).toBe(0)
    expect((await exchange.exited).code).toBe(0)
    expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(serviceSpec)
    await suite.expectNoLeftovers()
  },
)
