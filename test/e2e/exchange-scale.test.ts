/**
 * Scale mode while the session runs: the workload is watched and kept at 0. `kubectl scale` (a
 * write to the scale subresource, what an autoscaler does; this cluster's kube-controller-manager
 * runs the HPA controller but there is no metrics-server, and an HPA leaves a workload at 0 alone:
 * "ScalingDisabled", so the HPA's write is simulated) and `kubectl apply` of the
 * Deployment bring replicas back: ktx scales to 0 again, and the owner's pods never become a
 * Ready endpoint beside the shadow. A `rollout restart` at 0 makes no pods. A removed lock or a
 * deleted workload ends the session with an error and restores what is still there. The same on a
 * StatefulSet (with its headless Service beside the Service exchanged): traffic reaches the
 * laptop, and after close, or `kill -9` then `ktx clean`, its pods are back and Ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type LineWatch, deployApp, replicasOf, watchLines } from '../harness/apps.js'
import { kubectl } from '../harness/cluster.js'
import {
  type LaptopServers,
  type RunningExchange,
  annotationsOf,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  getFromCluster,
  runKtx,
  startKtxExchange,
  startLaptopServers,
  webDeploymentManifest,
} from '../harness/exchange.js'
import { killHard, waitLeasesLapsed } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'scale', shadowImage: true })
const { env } = suite
let laptop: LaptopServers
const LAPTOP = 'answered by the laptop'

beforeAll(async () => {
  await Promise.all([
    deployExchangeFixture(env, suite.namespace),
    deployApp(env, suite.namespace, 'db', { kind: 'StatefulSet', replicas: 2 }),
    deployApp(env, suite.namespace, 'dbp', {
      kind: 'StatefulSet',
      replicas: 2,
      podManagementPolicy: 'Parallel',
    }),
  ])
  laptop = await startLaptopServers(env, [LAPTOP])
}, 300_000)

afterAll(async () => {
  await (laptop as LaptopServers | undefined)?.close()
})

function exchangeScale(target: string): RunningExchange {
  return startKtxExchange(env, [
    target,
    '-n',
    suite.namespace,
    '--mode',
    'scale',
    '--expose',
    `${String(laptop.ports[0]!)}:8080`,
    '--leaseDuration',
    '10',
    '--image',
    env.SHADOW_IMAGE,
  ])
}

async function stop(ktx: RunningExchange): Promise<string> {
  ktx.child.kill('SIGINT')
  const result = await ktx.exited
  expect(result.code, result.stderr).toBe(0)
  return result.stderr
}

async function fromCluster(service: string): Promise<string> {
  return (await getFromCluster(env, suite.namespace, `http://${service}/`)).stdout
}

// The app's own pods (not the shadow, which carries its labels in scale mode).
async function appPods(app: string): Promise<string[]> {
  const out = await kubectl(env, [
    '-n',
    suite.namespace,
    'get',
    'pods',
    '-l',
    `app=${app},!ktx.dev/exchange`,
    '-o',
    'name',
  ])
  return out.split('\n').filter((line) => line.trim() !== '')
}

async function shadowIP(): Promise<string> {
  return kubectl(env, [
    '-n',
    suite.namespace,
    'get',
    'pods',
    '-l',
    'ktx.dev/exchange',
    '-o',
    'jsonpath={.items[0].status.podIP}',
  ])
}

// Every address that was a Ready endpoint of the Service while the watch ran.
function readyAddresses(watch: LineWatch): Set<string> {
  return new Set(
    watch.lines
      .map((l) => l.line.split(' '))
      .filter(([, ready]) => ready === 'true')
      .map(([ip]) => ip!),
  )
}

async function expectNoKtxAnnotations(workload: string): Promise<void> {
  const [kind, name] = workload.split('/') as [string, string]
  const annotations = await annotationsOf(env, suite.namespace, kind, name)
  expect(Object.keys(annotations).filter((key) => key.startsWith('ktx.dev/'))).toEqual([])
}

describe('negative control: without ktx', () => {
  it('callers in the cluster reach the real pods and cannot reach the laptop', async () => {
    expect(await fromCluster('web')).toMatch(/^real web-/)
    expect(await fromCluster('db')).toMatch(/^real db-[01]\n$/)
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
  })
})

describe('a Deployment scaled up under a scale-mode session', () => {
  it('kubectl scale and kubectl apply are answered by scaling to 0 again, the pods never serve beside the shadow; a rollout restart makes no pods; the end puts back the newest count', async () => {
    const ktx = exchangeScale('web')
    await ktx.ready
    expect(await fromCluster('web')).toBe(`${LAPTOP}\n`)
    const shadow = await shadowIP()
    const replicas = watchLines(env, suite.namespace, ['deployment', 'web'], '{.spec.replicas}{"\\n"}')
    const serving = watchLines(
      env,
      suite.namespace,
      ['endpointslices', '-l', 'kubernetes.io/service-name=web'],
      '{range .endpoints[*]}{.addresses[0]} {.conditions.ready}{"\\n"}{end}',
    )
    try {
      await replicas.until((l) => l === '0')

      // An autoscaler writes the scale subresource, as kubectl scale does.
      const scaledAt = Date.now()
      await kubectl(env, ['-n', suite.namespace, 'scale', 'deployment', 'web', '--replicas=3'])
      const up = await replicas.until((l) => l === '3', scaledAt)
      const down = await replicas.until((l) => l === '0', up.at)
      console.log(
        `scale watch: kubectl scale --replicas=3 answered (replicas 0 again) in ${String(down.at - up.at)} ms`,
      )
      await expect
        .poll(() => ktx.output().stderr, { timeout: 10_000 })
        .toMatch(
          /Warning: deployment\/web was scaled to 3 during the session \(kubectl scale or apply, an autoscaler\); ktx scaled it to 0 again so that only this session serves web, and puts 3 back when it ends\./,
        )
      await expect.poll(() => appPods('web'), { timeout: 60_000 }).toEqual([])

      // A CD pipeline re-applies the Deployment as written (replicas: 2); ktx's annotations stay.
      const appliedAt = Date.now()
      await kubectl(env, ['apply', '-f', '-'], webDeploymentManifest(env, suite.namespace))
      const up2 = await replicas.until((l) => l === '2', appliedAt)
      const down2 = await replicas.until((l) => l === '0', up2.at)
      console.log(`scale watch: kubectl apply (replicas 2) answered in ${String(down2.at - up2.at)} ms`)
      await expect
        .poll(() => ktx.output().stderr, { timeout: 10_000 })
        .toMatch(/was scaled to 2 during the session/)
      await expect.poll(() => appPods('web'), { timeout: 60_000 }).toEqual([])

      // A rollout restart at 0: a new ReplicaSet with no pods, nothing for ktx to do.
      const restartedAt = Date.now()
      await kubectl(env, ['-n', suite.namespace, 'rollout', 'restart', 'deployment/web'])
      await kubectl(env, ['-n', suite.namespace, 'rollout', 'status', 'deployment/web', '--timeout=60s'])
      expect(await appPods('web')).toEqual([])
      expect(replicas.lines.filter((l) => l.at >= restartedAt).map((l) => l.line)).not.toContain('2')
      expect(ktx.child.exitCode).toBeNull()
      expect(await fromCluster('web')).toBe(`${LAPTOP}\n`)

      // Whatever came up in between, only the shadow was ever a Ready endpoint.
      expect([...readyAddresses(serving)]).toEqual([shadow])
    } finally {
      replicas.stop()
      serving.stop()
      await stop(ktx)
    }
    // The owner's newest choice (the applied 2) is what comes back, Ready before ktx exits.
    expect(await replicasOf(env, suite.namespace, 'deployment/web')).toEqual({ spec: 2, ready: 2 })
    await expectNoKtxAnnotations('deployment/web')
    await suite.expectNoLeftovers()
    expect(await fromCluster('web')).toMatch(/^real web-/)
  }, 300_000)

  it('whose lock annotation is removed: the session ends with KTX_WORKLOAD_LOST and scales the Deployment back', async () => {
    const ktx = exchangeScale('web')
    await ktx.ready
    await kubectl(env, ['-n', suite.namespace, 'annotate', 'deployment', 'web', 'ktx.dev/lock-'])
    const result = await ktx.exited
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(
      /Error \(KTX_WORKLOAD_LOST\): deployment\/web lost this session's ktx\.dev\/lock annotation \(removed by hand, a replace, or ktx recover --force\); this exchange has ended/,
    )
    expect(await replicasOf(env, suite.namespace, 'deployment/web')).toEqual({ spec: 2, ready: 2 })
    await expectNoKtxAnnotations('deployment/web')
    await suite.expectNoLeftovers()
    expect(await fromCluster('web')).toMatch(/^real web-/)
  }, 240_000)
})

// Both pod management policies: ordered (one pod at a time, db-1 before db-0 on the way down) and
// parallel.
describe.each([
  { app: 'db', policy: 'OrderedReady' },
  { app: 'dbp', policy: 'Parallel' },
] as const)(
  'a StatefulSet with $policy pod management (a headless Service and a Service select its pods)',
  ({ app }) => {
    it('exchanged in scale mode: the Service reaches the laptop, kubectl scale is answered, close brings both pods back Ready', async () => {
      const ktx = exchangeScale(app)
      await ktx.ready
      expect(await fromCluster(app)).toBe(`${LAPTOP}\n`)
      try {
        // The status follows the pods going away (ordered: the last ordinal first).
        expect((await replicasOf(env, suite.namespace, `statefulset/${app}`)).spec).toBe(0)
        await expect.poll(() => appPods(app), { timeout: 60_000 }).toEqual([])

        await kubectl(env, ['-n', suite.namespace, 'scale', 'statefulset', app, '--replicas=2'])
        await expect
          .poll(() => ktx.output().stderr, { timeout: 10_000 })
          .toContain(`Warning: statefulset/${app} was scaled to 2 during the session`)
        expect((await replicasOf(env, suite.namespace, `statefulset/${app}`)).spec).toBe(0)
        await expect.poll(() => appPods(app), { timeout: 60_000 }).toEqual([])
        expect(await fromCluster(app)).toBe(`${LAPTOP}\n`)
      } finally {
        await stop(ktx)
      }
      expect(await replicasOf(env, suite.namespace, `statefulset/${app}`)).toEqual({ spec: 2, ready: 2 })
      expect((await appPods(app)).sort()).toEqual([`pod/${app}-0`, `pod/${app}-1`])
      await expectNoKtxAnnotations(`statefulset/${app}`)
      await suite.expectNoLeftovers()
      expect(await fromCluster(app)).toMatch(new RegExp(`^real ${app}-[01]\\n$`))
    }, 300_000)

    it('after kill -9, ktx clean scales it back once the lease lapsed and waits for its pods to be Ready', async () => {
      const ktx = exchangeScale(app)
      await ktx.ready
      expect(await fromCluster(app)).toBe(`${LAPTOP}\n`)
      await killHard(ktx)
      const killedAt = Date.now()
      expect((await replicasOf(env, suite.namespace, `statefulset/${app}`)).spec).toBe(0)

      await waitLeasesLapsed(env, suite.namespace)
      const cleaned = await runKtx(env, ['clean', '-n', suite.namespace, '--clusterOnly'])
      expect(cleaned.code, cleaned.stderr).toBe(0)
      expect(cleaned.stdout).toContain(`restore service/${app}`)
      expect(await replicasOf(env, suite.namespace, `statefulset/${app}`)).toEqual({ spec: 2, ready: 2 })
      console.log(
        `kill-9 exchange scale (StatefulSet ${app}) then ktx clean: replicas back and Ready ${String(Date.now() - killedAt)} ms after the kill`,
      )
      await expectNoKtxAnnotations(`statefulset/${app}`)
      await suite.expectNoLeftovers()
      expect(await fromCluster(app)).toMatch(new RegExp(`^real ${app}-[01]\\n$`))
    }, 240_000)
  },
)

describe('a Deployment deleted under a scale-mode session', () => {
  it('ends the session with KTX_WORKLOAD_LOST and leaves nothing of ktx', async () => {
    const ktx = exchangeScale('web')
    await ktx.ready
    const deletedAt = Date.now()
    await kubectl(env, ['-n', suite.namespace, 'delete', 'deployment', 'web', '--wait=false'])
    const result = await ktx.exited
    console.log(
      `scale watch: deployment deleted → session ended and cleaned up in ${String(Date.now() - deletedAt)} ms`,
    )
    // Nothing is left behind the Service, and the teardown sees that at once (no waiting it out).
    expect(result.stderr).not.toContain('could not confirm')
    expect(Date.now() - deletedAt).toBeLessThan(30_000)
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(
      /Error \(KTX_WORKLOAD_LOST\): deployment\/web was deleted while this session ran; this exchange has ended/,
    )
    await suite.expectNoLeftovers()
    // The Service no longer selects the shadow's labels anywhere: nothing answers it.
    expect(await kubectl(env, ['-n', suite.namespace, 'get', 'pods', '-l', 'app=web', '-o', 'name'])).toBe('')
  }, 240_000)
})
