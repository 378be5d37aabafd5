/**
 * What happens to an exchanged Service when ktx does not get to clean up: `kill -9`, then
 * `ktx recover` or `ktx clean`; a second session racing for the same Service; a forced recover of
 * a live session. Sessions here use a 10 s lease so "the owner is gone" arrives quickly; the tests
 * wait for it by watching the Lease lapse, not by sleeping.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type ClusterEnv, kubectl } from '../harness/cluster.js'
import {
  type LaptopServers,
  type RunningExchange,
  annotationsOf,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  getFromCluster,
  runKtx,
  specOf,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { killHard, waitLeasesLapsed } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'recover', shadowImage: true })
const env: ClusterEnv = suite.env
let laptop: LaptopServers
let serviceSpec: string
let deploymentSpec: string
const LAPTOP = 'answered by the laptop'

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  laptop = await startLaptopServers(env, [LAPTOP])
  serviceSpec = await specOf(env, suite.namespace, 'service', 'web')
  deploymentSpec = await specOf(env, suite.namespace, 'deployment', 'web')
})

afterAll(async () => {
  // Missing when the set-up failed half-way (suiteFixture deletes the namespace regardless).
  await (laptop as LaptopServers | undefined)?.close()
})

function exchangeWeb(...extra: string[]): RunningExchange {
  return startKtxExchange(env, [
    'web',
    '-n',
    suite.namespace,
    '--expose',
    `${laptop.ports[0]!}:8080`,
    '--leaseDuration',
    '10',
    '--image',
    env.SHADOW_IMAGE,
    ...extra,
  ])
}

async function expectRestored(): Promise<void> {
  const result = await getFromCluster(env, suite.namespace, 'http://web/')
  expect(result.stdout).toMatch(/^real web-/)
  expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(serviceSpec)
  expect(await specOf(env, suite.namespace, 'deployment', 'web')).toBe(deploymentSpec)
  const annotations = {
    ...(await annotationsOf(env, suite.namespace, 'service', 'web')),
    ...(await annotationsOf(env, suite.namespace, 'deployment', 'web')),
  }
  expect(Object.keys(annotations).filter((key) => key.startsWith('ktx.dev/'))).toEqual([])
  await suite.expectNoLeftovers()
}

describe('negative control: without ktx', () => {
  it('callers in the cluster reach the real pods and cannot reach the laptop', async () => {
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
  })
})

describe('kill -9 during an exchange', () => {
  it('then ktx recover: refused while the owner may be alive, restores everything once its lease lapsed', async () => {
    const ktx = exchangeWeb()
    await ktx.ready
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
    await killHard(ktx)

    const early = await runKtx(env, ['recover', 'web', '-n', suite.namespace])
    expect(early.code).toBe(5)
    expect(early.stderr).toMatch(
      /Error \(KTX_SESSION_ALIVE\): Service "web" is held by a session that is still running: \S+@\S+ \(session [0-9a-f]{8}, last alive \d{4}-\d\d-\d\dT[\d:]+Z \(\d+s ago\)\)/,
    )
    expect(early.stderr).toContain('--force')
    expect(await suite.leftovers()).not.toEqual([])

    await waitLeasesLapsed(env, suite.namespace)
    const recovered = await runKtx(env, ['recover', 'web', '-n', suite.namespace])
    expect(recovered.stderr).toBe('')
    expect(recovered.code).toBe(0)
    expect(recovered.stdout).toContain(`Recovered Service ${suite.namespace}/web`)
    expect(recovered.stdout).toContain('selector restored: app=web')
    await expectRestored()
  })

  it('in scale mode, then ktx clean: leaves a live session alone, later scales the Deployment back and waits for it', async () => {
    const ktx = exchangeWeb('--mode', 'scale')
    await ktx.ready
    await killHard(ktx)

    const whileAlive = await runKtx(env, ['clean', '-n', suite.namespace, '--clusterOnly'])
    expect(whileAlive.code).toBe(0)
    expect(whileAlive.stdout).toMatch(/left alone \(alive\): [0-9a-f]{8}/)
    expect(
      await kubectl(env, [
        '-n',
        suite.namespace,
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.spec.replicas}',
      ]),
    ).toBe('0')

    await waitLeasesLapsed(env, suite.namespace)
    const cleaned = await runKtx(env, ['clean', '-n', suite.namespace, '--clusterOnly'])
    expect(cleaned.code).toBe(0)
    expect(cleaned.stdout).toContain('restore service/web')
    expect(
      await kubectl(env, [
        '-n',
        suite.namespace,
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.status.readyReplicas}',
      ]),
    ).toBe('2')
    await expectRestored()
  })

  it('then a new exchange takes the Service over by itself once the old lease lapsed', async () => {
    const first = exchangeWeb()
    await first.ready
    await killHard(first)
    await waitLeasesLapsed(env, suite.namespace)

    const second = exchangeWeb()
    try {
      await second.ready
      expect(second.output().stderr).toMatch(
        /web was left by session [0-9a-f]{8} of \S+ \(last alive .*\); restored it before taking over/,
      )
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
    } finally {
      second.child.kill('SIGINT')
      await second.exited
    }
    expect((await second.exited).code).toBe(0)
    await expectRestored()
  })
})

describe('two sessions racing for one Service', () => {
  it('exactly one wins; the other fails naming the owner and changes nothing', async () => {
    const racers = [exchangeWeb(), exchangeWeb()]
    const outcomes = await Promise.all(
      racers.map((r) =>
        Promise.race([r.ready.then(() => 'ready' as const), r.exited.then(() => 'exited' as const)]),
      ),
    )
    try {
      expect([...outcomes].sort()).toEqual(['exited', 'ready'])
      const winner = racers[outcomes.indexOf('ready')]!
      const loser = await racers[outcomes.indexOf('exited')]!.exited
      expect(loser.code).toBe(5)
      expect(loser.stderr).toMatch(
        /Error \(KTX_SERVICE_LOCKED\): Service "web" is already exchanged by \S+@\S+ \(session [0-9a-f]{8}, selector mode\), last alive/,
      )
      // Only the winner's objects exist, and the Service points at the winner's shadow.
      const sessions = await kubectl(env, [
        '-n',
        suite.namespace,
        'get',
        'pods,leases.coordination.k8s.io',
        '-l',
        'app.kubernetes.io/managed-by=ktx',
        '-o',
        'jsonpath={.items[*].metadata.labels.ktx\\.dev/session}',
      ])
      const ids = new Set(sessions.trim().split(/\s+/))
      expect(ids.size).toBe(1)
      const winnerId = [...ids][0]!
      expect(
        await kubectl(env, [
          '-n',
          suite.namespace,
          'get',
          'service',
          'web',
          '-o',
          'jsonpath={.spec.selector}',
        ]),
      ).toBe(`{"ktx.dev/exchange":"${winnerId}"}`)
      expect(winner.output().stdout).toContain(winnerId)
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
    } finally {
      for (const r of racers) r.child.kill('SIGINT')
      await Promise.all(racers.map((r) => r.exited))
    }
    await expectRestored()
  })
})

describe('ktx recover --force', () => {
  it('takes the Service back from a live session, which then ends with an error and leaves nothing', async () => {
    const ktx = exchangeWeb()
    await ktx.ready
    const forced = await runKtx(env, ['recover', 'web', '-n', suite.namespace, '--force'])
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain(`Recovered Service ${suite.namespace}/web`)
    const result = await ktx.exited
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/Error \(KTX_(LEASE_LOST|SERVICE_LOST)\)/)
    await expectRestored()
  })
})
