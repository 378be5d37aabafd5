/**
 * `kill -9` of every verb at once, in one namespace: connect (socks), exchange in selector mode
 * (Service `web`), exchange in scale mode (Deployment `scaled`), mesh (Service `meshed`) and preview
 * (`pv`), all with a 10 s lease. Then (a) one `ktx clean` once the Leases lapsed puts everything back
 * at once; (b) nobody runs clean: the next ktx run in the namespace (a `ktx connect`) does it once
 * ready. For each verb the time from the kill to its Service restored (selector back, replicas back
 * and Ready, mesh Service restored, preview Service deleted; connect: its shadow pod gone) is
 * printed as `kill-9 <verb> (a|b): restored in N ms`. The times include the lease running out (up
 * to 10 s after the last renewal), which is what tells the session is dead; they are observed by
 * polling one `kubectl get` about every 300 ms, so they are that coarse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { deployApp } from '../harness/apps.js'
import { kubectl } from '../harness/cluster.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  getFromCluster,
  runKtx,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { type RunningVerb, killHard, startKtx, startKtxConnect, waitLeasesLapsed } from '../harness/ktx.js'
import { startKtxPreview } from '../harness/preview.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'kill9', shadowImage: true })
const { env } = suite
let laptop: LaptopServers
const LAPTOP = 'answered by the laptop'
const VERBS = ['connect', 'exchange-selector', 'exchange-scale', 'mesh', 'preview'] as const
type Verb = (typeof VERBS)[number]

beforeAll(async () => {
  await Promise.all([
    deployExchangeFixture(env, suite.namespace),
    deployApp(env, suite.namespace, 'scaled', { kind: 'Deployment', replicas: 2 }),
    deployApp(env, suite.namespace, 'meshed', { kind: 'Deployment', replicas: 2 }),
  ])
  laptop = await startLaptopServers(env, [LAPTOP])
}, 300_000)

afterAll(async () => {
  await (laptop as LaptopServers | undefined)?.close()
})

// Each verb with a short lease, so "the owner is gone" arrives quickly.
function startVerb(verb: Verb): {
  readonly child: RunningVerb['child']
  readonly exited: RunningVerb['exited']
  readonly ready: Promise<unknown>
} {
  const ns = suite.namespace
  const port = String(laptop.ports[0]!)
  const common = ['-n', ns, '--image', env.SHADOW_IMAGE, '--leaseDuration', '10']
  switch (verb) {
    case 'connect':
      return startKtxConnect(env, common)
    case 'exchange-selector':
      return startKtxExchange(env, ['web', ...common, '--expose', `${port}:8080`])
    case 'exchange-scale':
      return startKtxExchange(env, ['scaled', ...common, '--mode', 'scale', '--expose', `${port}:8080`])
    case 'mesh':
      return startKtx(
        env,
        ['mesh', 'meshed', ...common, '--expose', `${port}:8080`, '--versionMark', 'k9'],
        'Press Ctrl+C to stop',
      )
    case 'preview':
      return startKtxPreview(env, ['pv', ...common, '--expose', `${port}:80`])
  }
}

interface Snapshot {
  readonly items: {
    readonly kind: string
    readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> }
    readonly spec: { readonly selector?: unknown; readonly replicas?: number }
    readonly status?: { readonly readyReplicas?: number }
  }[]
}

async function snapshot(): Promise<Snapshot> {
  return JSON.parse(
    await kubectl(env, ['-n', suite.namespace, 'get', 'services,deployments,pods', '-o', 'json']),
  ) as Snapshot
}

const ktxKeys = (annotations: Record<string, string> | undefined): string[] =>
  Object.keys(annotations ?? {}).filter((key) => key.startsWith('ktx.dev/'))

const isShadow = (item: Snapshot['items'][number]): boolean =>
  item.kind === 'Pod' && item.metadata.name.startsWith('ktx-shadow-')

// The killed connect's shadow pods (a later connect has its own).
let killedShadows = new Set<string>()

// Whether each verb's Service (or, for connect, its pod) is back as it was.
function restoredIn(state: Snapshot): Record<Verb, boolean> {
  const find = (kind: string, name: string) =>
    state.items.find((i) => i.kind === kind && i.metadata.name === name)
  const serviceBack = (name: string): boolean => {
    const service = find('Service', name)
    return (
      JSON.stringify(service?.spec.selector) === JSON.stringify({ app: name }) &&
      ktxKeys(service?.metadata.annotations).length === 0
    )
  }
  const scaled = find('Deployment', 'scaled')
  return {
    connect: !state.items.some((i) => isShadow(i) && killedShadows.has(i.metadata.name)),
    'exchange-selector': serviceBack('web'),
    'exchange-scale':
      scaled?.spec.replicas === 2 &&
      scaled.status?.readyReplicas === 2 &&
      ktxKeys(scaled.metadata.annotations).length === 0,
    mesh: serviceBack('meshed'),
    preview: find('Service', 'pv') === undefined,
  }
}

/** Polls until every verb is restored; resolves with each one's time since `killedAt`. */
async function timeRestores(killedAt: number, timeoutMs: number): Promise<Record<Verb, number>> {
  const times: Partial<Record<Verb, number>> = {}
  while (VERBS.some((verb) => times[verb] === undefined)) {
    if (Date.now() - killedAt > timeoutMs) {
      throw new Error(
        `not restored within ${String(timeoutMs)} ms: ${VERBS.filter((v) => times[v] === undefined).join(', ')}`,
      )
    }
    const state = await snapshot()
    const seenAt = Date.now()
    const restored = restoredIn(state)
    for (const verb of VERBS) if (restored[verb] && times[verb] === undefined) times[verb] = seenAt - killedAt
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  return times as Record<Verb, number>
}

/** Starts every verb, checks they took effect, then kills them all with SIGKILL. */
async function startAndKillAll(): Promise<number> {
  const sessions = VERBS.map(startVerb)
  try {
    await Promise.all(sessions.map((s) => s.ready))
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
    expect((await getFromCluster(env, suite.namespace, 'http://scaled/')).stdout).toBe(`${LAPTOP}\n`)
    expect((await getFromCluster(env, suite.namespace, 'http://pv/')).stdout).toBe(`${LAPTOP}\n`)
    const before = await snapshot()
    killedShadows = new Set(before.items.filter(isShadow).map((i) => i.metadata.name))
    expect(Object.values(restoredIn(before))).toEqual(VERBS.map(() => false))
  } catch (error) {
    for (const s of sessions) s.child.kill('SIGKILL')
    throw error
  }
  const killedAt = Date.now()
  await Promise.all(sessions.map((s) => killHard(s)))
  return killedAt
}

async function expectAllBack(): Promise<void> {
  expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
  expect((await getFromCluster(env, suite.namespace, 'http://scaled/')).stdout).toMatch(/^real scaled-/)
  expect((await getFromCluster(env, suite.namespace, 'http://meshed/')).stdout).toMatch(/^real meshed-/)
  // The router and stuntman go with the last mesh Lease, by the garbage collector.
  await expect.poll(() => suite.leftovers(), { timeout: 60_000 }).toEqual([])
}

function report(round: 'a' | 'b', times: Record<Verb, number>): void {
  for (const verb of VERBS) console.log(`kill-9 ${verb} (${round}): restored in ${String(times[verb])} ms`)
}

describe('negative control: without ktx', () => {
  it('callers in the cluster reach the real pods, cannot reach the laptop, and find no pv', async () => {
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
    expect((await getFromCluster(env, suite.namespace, 'http://meshed/')).stdout).toMatch(/^real meshed-/)
    const pv = await getFromCluster(env, suite.namespace, 'http://pv/')
    expect(pv.code).not.toBe(0)
    expect(pv.stdout).toBe('')
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
  })
})

describe('kill -9 of connect, exchange (selector and scale), mesh and preview', () => {
  it('(a) one ktx clean, once the Leases lapsed, restores everything at once', async () => {
    const killedAt = await startAndKillAll()
    const timing = timeRestores(killedAt, 180_000)
    timing.catch(() => undefined)
    await waitLeasesLapsed(env, suite.namespace)
    const cleaned = await runKtx(env, ['clean', '-n', suite.namespace, '--clusterOnly'])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(cleaned.stdout).toMatch(/Namespace \S+: 5 dead session\(s\)/)
    for (const service of ['web', 'scaled', 'meshed'])
      expect(cleaned.stdout).toContain(`restore service/${service}`)
    expect(cleaned.stdout).toContain('deleted service/pv')
    // clean waits for the scaled-back Deployment to be Ready: everything is back when it returns.
    expect(Object.values(restoredIn(await snapshot()))).toEqual(VERBS.map(() => true))
    report('a', await timing)
    await expectAllBack()
  }, 420_000)

  it('(b) with nothing run, the next ktx in the namespace (a connect) restores everything once the Leases lapsed', async () => {
    const killedAt = await startAndKillAll()
    const timing = timeRestores(killedAt, 180_000)
    timing.catch(() => undefined)
    await waitLeasesLapsed(env, suite.namespace)
    // Still broken: nobody repairs it until a ktx runs.
    expect(restoredIn(await snapshot())['exchange-selector']).toBe(false)
    const next = startKtxConnect(env, ['-n', suite.namespace, '--image', env.SHADOW_IMAGE])
    try {
      await next.ready
      const times = await timing
      report('b', times)
      await expect
        .poll(() => next.output().stderr, { timeout: 30_000 })
        .toMatch(
          /Cleaned what 5 dead ktx session\(s\) left in namespace \S+: restored (?=.*service\/web\b)(?=.*service\/scaled\b)(?=.*service\/meshed\b)/,
        )
    } finally {
      next.child.kill('SIGINT')
    }
    expect((await next.exited).code).toBe(0)
    await expectAllBack()
  }, 420_000)
})
