/**
 * `ktx clean --all-namespaces` on the real cluster: two namespaces, each with Service `web` left
 * redirected by a session killed with SIGKILL (its Lease gone). The dry run lists both and changes
 * nothing; a user with only a namespaced Role is told what is missing and what to do instead; the
 * real run puts both Services back. Then a session killed the same way is repaired by the next ktx
 * run in its namespace (a connect), with no clean run at all.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type FixtureNamespace, createFixtureNamespace } from '../harness/cluster.js'
import { killedExchange } from '../harness/dead-session.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  getFromCluster,
  runKtx,
  specOf,
  startLaptopServers,
} from '../harness/exchange.js'
import { ktxLeftovers, startKtxConnect } from '../harness/ktx.js'
import { allNamespacesCleaner, profileKubeconfig } from '../harness/rbac.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'clean-all', shadowImage: true })
const { env } = suite
let other: FixtureNamespace
let laptop: LaptopServers
const specs = new Map<string, string>()
const namespaces = (): string[] => [suite.namespace, other.name]

beforeAll(async () => {
  other = await createFixtureNamespace(env, 'clean-all-b')
  await Promise.all(namespaces().map((ns) => deployExchangeFixture(env, ns)))
  laptop = await startLaptopServers(env, ['answered by the laptop'])
  for (const ns of namespaces()) specs.set(ns, await specOf(env, ns, 'service', 'web'))
}, 240_000)

afterAll(async () => {
  await (laptop as LaptopServers | undefined)?.close()
  await (other as FixtureNamespace | undefined)?.close()
})

async function expectRestored(restored: boolean): Promise<void> {
  for (const ns of namespaces()) {
    const same = (await specOf(env, ns, 'service', 'web')) === specs.get(ns)
    expect(same, ns).toBe(restored)
    const answer = (await getFromCluster(env, ns, 'http://web/')).stdout
    if (restored) expect(answer, ns).toMatch(/^real web-/)
    else expect(answer, ns).not.toMatch(/^real web-/)
  }
}

describe('negative control: without ktx', () => {
  it('the Services reach their real pods, and the laptop is unreachable from the cluster', async () => {
    await expectRestored(true)
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
  })
})

describe('two namespaces left redirected by killed sessions', () => {
  beforeAll(async () => {
    for (const ns of namespaces()) await killedExchange(env, ns, laptop.ports[0]!)
    await expectRestored(false)
  }, 240_000)

  it('--dryRun lists both namespaces and what it would do, and changes nothing', async () => {
    const result = await runKtx(env, ['clean', '--all-namespaces', '--dryRun', '--clusterOnly'])
    expect(result.code, result.stderr).toBe(0)
    for (const ns of namespaces()) {
      expect(result.stdout).toContain(`Namespace ${ns}: 1 dead session(s)\n  would restore service/web`)
    }
    await expectRestored(false)
  })

  it('with only a namespaced Role: refused, naming what is missing and what to do instead', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'clean')
    const result = await runKtx(env, ['clean', '-A', '--clusterOnly', '--kubeconfig', kubeconfig])
    expect(result.code, result.stderr).toBe(4)
    expect(result.stderr).toContain(
      "Error (KTX_KUBE_FORBIDDEN): Not allowed to list ktx's objects across namespaces: leases, pods, services, deployments, statefulsets were all refused",
    )
    expect(result.stderr).toContain('ktx clean -n <namespace>')
    await expectRestored(false)
  })

  // The cluster is shared: this user may list across it but clean only in this suite's namespaces,
  // so the run cannot touch another suite's (dead-on-purpose) sessions.
  it('puts both Services back and leaves no ktx object in either namespace', async () => {
    await using cleaner = await allNamespacesCleaner(env, [suite.namespace, other.name])
    const result = await runKtx(env, [
      'clean',
      '--all-namespaces',
      '--clusterOnly',
      '--kubeconfig',
      cleaner.kubeconfig,
    ])
    expect(result.code, result.stderr).toBe(0)
    for (const ns of namespaces())
      expect(result.stdout).toContain(`Namespace ${ns}: 1 dead session(s)\n  restore service/web`)
    await expectRestored(true)
    expect(await ktxLeftovers(env, suite.namespace)).toEqual([])
    expect(await ktxLeftovers(env, other.name)).toEqual([])
  })
})

describe('the next ktx run in a namespace', () => {
  it('puts back what a killed session left there, with no `ktx clean` run', async () => {
    await killedExchange(env, suite.namespace, laptop.ports[0]!)
    const ktx = startKtxConnect(env, ['-n', suite.namespace, '-i', env.SHADOW_IMAGE])
    try {
      await ktx.ready
      await vi.waitFor(
        async () =>
          expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(specs.get(suite.namespace)),
        { timeout: 30_000, interval: 500 },
      )
      // Said once the dead session's objects are gone too, a moment after the Service is back.
      await vi.waitFor(
        () =>
          expect(ktx.output().stderr).toContain(
            `Cleaned what 1 dead ktx session(s) left in namespace ${suite.namespace}: restored service/web`,
          ),
        { timeout: 30_000, interval: 500 },
      )
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
    }
    expect((await ktx.exited).code).toBe(0)
    await suite.expectNoLeftovers()
  })
})
