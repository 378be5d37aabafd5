/**
 * The tunnel heals itself. Three sessions run side by side against the real cluster — `ktx connect`
 * in TUN mode, `ktx connect --mode socks` and `ktx exchange` — while the cluster is hurt four
 * ways: the shadow pods deleted, kube-apiserver restarted, the kubelet restarted, and the laptop's
 * traffic to the API server dropped for 10 s. After each, with nobody touching ktx, `curl` through
 * TUN and through SOCKS reaches a cluster Service again and a cluster pod's request to the
 * exchanged Service is answered by the laptop again; the time each took is printed. Then Ctrl+C
 * ends all three and the cluster and the laptop are as before.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { MANAGED_SELECTOR } from '@ktx/core/contract'

import {
  type ClusterEnv,
  type WebWorkload,
  curlFromLaptop,
  deployWeb,
  inLaptop,
  kubectl,
  run,
} from '../harness/cluster.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  getFromCluster,
  runKtx,
  specOf,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { KTX_BIN, type RunningKtx, type RunningVerb, startKtx, startKtxConnect } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const RESTART = fileURLToPath(new URL('../cluster/restart.sh', import.meta.url))
const LAPTOP_BODY = 'answered by the laptop during faults'
// Long enough for every fault here; short enough that a tunnel that never heals fails the suite.
const RECONNECT_SECONDS = '150'

let api: WebWorkload
const suite = suiteFixture({
  namespace: 'faults',
  shadowImage: true,
  negativeControl: { unreachable: () => [`http://${api.clusterIP}/`, `http://api.${suite.namespace}/`] },
})
const env: ClusterEnv = suite.env
let laptop: LaptopServers
let serviceSpec: string
let tun: RunningVerb
let socks: RunningKtx
let socksUrl: string
let exchange: RunningVerb
const home = mkdtempSync(join(tmpdir(), 'ktx-faults-home-'))
// The TUN session's own register, so `ktx status` lists it alone.
const stateDir = join(home, 'state')

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  api = await deployWeb(env, suite.namespace, 'api', { replicas: 1, body: `faults api ${suite.namespace}` })
  laptop = await startLaptopServers(env, [LAPTOP_BODY])
  serviceSpec = await specOf(env, suite.namespace, 'service', 'web')
})

afterAll(async () => {
  for (const session of [tun, socks, exchange] as (RunningVerb | RunningKtx | undefined)[]) {
    if (session?.child.exitCode === null) session.child.kill('SIGKILL')
  }
  await inLaptop(env, 'iptables', ['-D', 'OUTPUT', ...API_DROP]).catch(() => undefined)
  // A failed test may have left a session behind: its host journal (root's) and cluster objects.
  await runKtx(env, ['clean', '-n', suite.namespace])
  await (laptop as LaptopServers | undefined)?.close()
})

const API_DROP = ['-d', env.CLUSTER_NODE_IP, '-p', 'tcp', '--dport', '6443', '-j', 'DROP']

// The three things a developer does through ktx, each true or false right now.
const checks = {
  'connect (tun)': async () =>
    (await curlFromLaptop(env, `http://api.${suite.namespace}/`)).stdout.trim() === api.body,
  'connect (socks)': async () =>
    (await curlFromLaptop(env, `http://api.${suite.namespace}/`, ['--proxy', socksUrl])).stdout.trim() ===
    api.body,
  exchange: async () =>
    (await getFromCluster(env, suite.namespace, 'http://web/')).stdout === `${LAPTOP_BODY}\n`,
}

/** Polls every check until each passes once; returns the ms from `since` to each first pass. */
async function timeToRecover(since: number, budgetMs = 170_000): Promise<Record<string, number>> {
  const recovered: Record<string, number> = {}
  const deadline = since + budgetMs
  const pending = new Set(Object.keys(checks) as (keyof typeof checks)[])
  while (pending.size > 0 && Date.now() < deadline) {
    await Promise.all(
      [...pending].map(async (name) => {
        if (await checks[name]().catch(() => false)) {
          recovered[name] = Date.now() - since
          pending.delete(name)
        }
      }),
    )
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250))
  }
  expect([...pending], 'checks that never passed again').toEqual([])
  return recovered
}

function expectAllRunning(): void {
  for (const [name, session] of [
    ['tun', tun],
    ['socks', socks],
    ['exchange', exchange],
  ] as const) {
    expect(session.child.exitCode, `${name} exited:\n${session.output().stderr}`).toBeNull()
  }
}

function report(fault: string, times: Record<string, number>): void {
  const parts = Object.entries(times).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`)
  console.log(`fault "${fault}": working again after ${parts.join(', ')}`)
}

function restoredLines(session: RunningVerb | RunningKtx): number {
  return (session.output().stderr.match(/^Tunnel back after /gm) ?? []).length
}

function replacedPods(): number {
  return [tun, socks, exchange]
    .map(
      (session) =>
        (session.output().stderr.match(/^Tunnel back after .* over a new shadow pod/gm) ?? []).length,
    )
    .reduce((a, b) => a + b, 0)
}

describe('negative control: without ktx', () => {
  it('a cluster pod cannot reach the laptop', async () => {
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
  })
})

describe('faults while connect (tun, socks) and exchange run', () => {
  it('all three sessions come up', async () => {
    const image = [
      '-n',
      suite.namespace,
      '--image',
      env.SHADOW_IMAGE,
      '--reconnectTimeout',
      RECONNECT_SECONDS,
    ]
    tun = startKtx(env, ['connect', ...image, '--tunName', 'ktxfault0'], 'Press Ctrl+C', {
      HOME: home,
      KTX_TUN2SOCKS: env.TUN2SOCKS,
      KTX_STATE_DIR: stateDir,
    })
    socks = startKtxConnect(env, image)
    exchange = startKtxExchange(env, ['web', ...image, '--expose', `${laptop.ports[0]!}:8080`])
    await Promise.all([tun.ready, exchange.ready])
    socksUrl = (await socks.ready).socksUrl
    const times = await timeToRecover(Date.now(), 30_000)
    expect(Object.keys(times).sort()).toEqual(Object.keys(checks).sort())
  })

  it('the shadow pods are deleted: each session makes a new one', async () => {
    const before = await shadowPods()
    expect(before).toHaveLength(3)
    const since = Date.now()
    await kubectl(env, ['-n', suite.namespace, 'delete', 'pods', '-l', MANAGED_SELECTOR, '--wait=false'])
    // Timed from the delete, checked once the old pods are gone: until then they still answer.
    await kubectl(env, ['-n', suite.namespace, 'wait', '--for=delete', ...before, '--timeout=60s'])
    report('shadow pods deleted', await timeToRecover(since))
    expectAllRunning()
    const after = await shadowPods()
    expect(after).toHaveLength(3)
    for (const name of after) expect(before).not.toContain(name)
    for (const session of [tun, socks, exchange]) {
      expect(session.output().stderr).toMatch(/^Tunnel back after [\d.]+s over a new shadow pod/m)
    }
  })

  it('kube-apiserver restarts; ktx status shows the TUN session degraded, then ready', async () => {
    const restored = [tun, socks, exchange].map(restoredLines)
    const replaced = replacedPods()
    const watching = watchLocalStates()
    const since = Date.now()
    await run('bash', [RESTART, 'kube-apiserver'], { timeoutMs: 200_000 })
    report('kube-apiserver restarted', await timeToRecover(since))
    expectAllRunning()
    const states = await watching.stop()
    expect(states).toContain('degraded')
    expect(states.at(-1)).toBe('ready')
    // The pods lived through it: the tunnels came back over the same ones.
    expect(replacedPods()).toBe(replaced)
    // Every port-forward went through the API server: each session had to rebuild its tunnel.
    expect([tun, socks, exchange].map(restoredLines).every((n, i) => n > restored[i]!)).toBe(true)
  })

  it('the kubelet restarts', async () => {
    const restored = [tun, socks, exchange].map(restoredLines)
    const replaced = replacedPods()
    const since = Date.now()
    await run('bash', [RESTART, 'kubelet'], { timeoutMs: 200_000 })
    report('kubelet restarted', await timeToRecover(since))
    expectAllRunning()
    const rebuilt = [tun, socks, exchange].map((session, i) => restoredLines(session) - restored[i]!)
    console.log(`kubelet restart: tunnels rebuilt (tun, socks, exchange): ${rebuilt.join(', ')}`)
    expect(replacedPods()).toBe(replaced)
  })

  it("the laptop's traffic to the API server is dropped for 10 s", async () => {
    const cut = await inLaptop(env, 'iptables', ['-I', 'OUTPUT', ...API_DROP])
    expect(cut.code, cut.stderr).toBe(0)
    // While it lasts, the laptop reaches nothing of the cluster: the cut is real.
    expect(await checks['connect (socks)']().catch(() => false)).toBe(false)
    // The outage's length is the fault itself, not a wait for readiness.
    await new Promise((resolve) => setTimeout(resolve, 10_000))
    const since = Date.now()
    const healed = await inLaptop(env, 'iptables', ['-D', 'OUTPUT', ...API_DROP])
    expect(healed.code, healed.stderr).toBe(0)
    report(
      'laptop cut from the API server for 10 s (times from the end of the cut)',
      await timeToRecover(since),
    )
    expectAllRunning()
  })

  it('Ctrl+C ends all three and leaves the cluster as it was', async () => {
    for (const session of [tun, socks, exchange]) session.child.kill('SIGINT')
    const results = await Promise.all([tun.exited, socks.exited, exchange.exited])
    for (const result of results) expect(result.code, result.stderr).toBe(0)
    expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(serviceSpec)
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
    await suite.expectNoLeftovers()
    expect((await inLaptop(env, 'ip', ['link', 'show', 'ktxfault0'])).code).not.toBe(0)
  })
})

describe('a tunnel that cannot be rebuilt in time', () => {
  it('ends the session with a clear error and gives the Service back', async () => {
    const session = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--image',
      env.SHADOW_IMAGE,
      '--reconnectTimeout',
      '10',
      '--expose',
      `${laptop.ports[0]!}:8080`,
    ])
    await session.ready
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP_BODY}\n`)
    // No new pod may start in the namespace: the deleted shadow cannot be replaced.
    await kubectl(
      env,
      ['apply', '-f', '-'],
      `{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"no-pods","namespace":"${suite.namespace}"},"spec":{"hard":{"pods":"0"}}}`,
    )
    try {
      const since = Date.now()
      await kubectl(env, ['-n', suite.namespace, 'delete', 'pods', '-l', MANAGED_SELECTOR, '--wait=false'])
      const result = await session.exited
      console.log(`gave up and restored after ${((Date.now() - since) / 1000).toFixed(1)} s (budget 10 s)`)
      // Budget 10 s, then the undo: it does not wait for probes it can no longer send.
      expect(Date.now() - since).toBeLessThan(40_000)
      expect(result.code).toBe(7)
      expect(result.stderr).toMatch(/^Tunnel to the cluster broke .*; reconnecting/m)
      expect(result.stderr).toMatch(
        /Error \(KTX_TUNNEL_LOST\): Lost the tunnel to the shadow pod and could not rebuild it within \d+s: .*exceeded quota/,
      )
      expect(result.stderr).toContain('--reconnectTimeout')
      expect(result.stderr).not.toMatch(/could not confirm within/)
    } finally {
      await kubectl(env, ['-n', suite.namespace, 'delete', 'resourcequota', 'no-pods'])
    }
    expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(serviceSpec)
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
    await suite.expectNoLeftovers()
  })
})

// `ktx status --json` prints NDJSON; the report is the last line's `result`. Unreadable: undefined.
function stateIn(stdout: string): string | undefined {
  try {
    const last = stdout.trim().split('\n').at(-1) ?? ''
    const report = (JSON.parse(last) as { result?: { sessions?: { state: string }[] } }).result
    return report?.sessions?.[0]?.state
  } catch {
    return undefined
  }
}

/** Polls `ktx status --json` (local: no API server needed) and collects the TUN session's state changes. */
function watchLocalStates(): { stop(): Promise<string[]> } {
  const states: string[] = []
  const polling = new AbortController()
  const loop = (async () => {
    while (!polling.signal.aborted) {
      const result = await run(
        'ip',
        ['netns', 'exec', env.LAPTOP_NETNS, process.execPath, KTX_BIN, 'status', '--json'],
        {
          env: { ...process.env, KTX_STATE_DIR: stateDir },
          timeoutMs: 30_000,
        },
      )
      const state = stateIn(result.stdout)
      if (state !== undefined && state !== states.at(-1)) states.push(state)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  })()
  return {
    async stop() {
      polling.abort()
      await loop
      return states
    },
  }
}

async function shadowPods(): Promise<string[]> {
  const out = await kubectl(env, ['-n', suite.namespace, 'get', 'pods', '-l', MANAGED_SELECTOR, '-o', 'name'])
  return out.split('\n').filter((line) => line !== '')
}
