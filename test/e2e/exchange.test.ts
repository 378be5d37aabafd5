/**
 * `ktx exchange` against the real test cluster. ktx and the developer's servers run in the laptop
 * network namespace; the callers are pods. The negative control shows the callers reach the real
 * pods and cannot reach the laptop; then each mode sends both exposed ports to the laptop, and
 * after Ctrl+C the very next request is answered by the real pods again, the Service (and, in
 * scale mode, the Deployment) spec is byte-for-byte what it was, and no ktx object is left.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { type ClusterEnv, kubectl, tokenKubeconfig } from '../harness/cluster.js'
import {
  type LaptopServers,
  annotationsOf,
  EXCHANGE_RULES,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  freeLaptopPort,
  getFromCluster,
  runKtx,
  specOf,
  startKtxExchange,
  startLaptopServers,
  webServiceManifest,
} from '../harness/exchange.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'exchange', shadowImage: true })
const env: ClusterEnv = suite.env
let laptop: LaptopServers
let serviceSpec: string
let deploymentSpec: string

const LAPTOP_A = 'answered by the laptop server A'
const LAPTOP_B = 'answered by the laptop server B'
// The laptop servers' ports (free ports: other suites may use the laptop namespace meanwhile).
let portA: number
let portB: number

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  laptop = await startLaptopServers(env, [LAPTOP_A, LAPTOP_B])
  ;[portA, portB] = laptop.ports as [number, number]
  serviceSpec = await specOf(env, suite.namespace, 'service', 'web')
  deploymentSpec = await specOf(env, suite.namespace, 'deployment', 'web')
})

afterAll(async () => {
  // Missing when the set-up failed half-way (suiteFixture deletes the namespace regardless).
  await (laptop as LaptopServers | undefined)?.close()
})

async function expectRealPods(): Promise<void> {
  for (const url of ['http://web/', 'http://web:9000/']) {
    const result = await getFromCluster(env, suite.namespace, url)
    expect(result.stdout, url).toMatch(/^real web-/)
  }
}

async function readyEndpoints(namespace: string, service: string): Promise<string[]> {
  const slices = JSON.parse(
    await kubectl(env, [
      '-n',
      namespace,
      'get',
      'endpointslices',
      '-l',
      `kubernetes.io/service-name=${service}`,
      '-o',
      'json',
    ]),
  ) as { items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[] }
  return slices.items
    .flatMap((slice) => slice.endpoints ?? [])
    .filter((endpoint) => endpoint.conditions?.ready !== false)
    .flatMap((endpoint) => endpoint.addresses)
    .sort()
}

async function expectUntouched(): Promise<void> {
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
  it('callers in the cluster reach the real pods on both ports, and cannot reach the laptop', async () => {
    await expectRealPods()
    await expectLaptopUnreachableFromCluster(env, suite.namespace, portA)
  })
})

describe('ktx exchange --mode selector', () => {
  it('sends both ports to the laptop, re-points a re-applied Service, and Ctrl+C gives it back untouched', async () => {
    const ktx = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--expose',
      `${portA}:8080,${portB}:90`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    try {
      const summary = await ktx.ready
      expect(summary).toContain(`Exchanged: Service ${suite.namespace}/web`)
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP_A}\n`)
      expect((await getFromCluster(env, suite.namespace, 'http://web:9000/')).stdout).toBe(`${LAPTOP_B}\n`)
      expect(
        (await getFromCluster(env, suite.namespace, `http://web.${suite.namespace}.svc.cluster.local/`))
          .stdout,
      ).toBe(`${LAPTOP_A}\n`)

      // The Service carries the lock and the original selector; the shadow pod is the session's.
      const annotations = await annotationsOf(env, suite.namespace, 'service', 'web')
      expect(JSON.parse(annotations['ktx.dev/lock']!)).toMatchObject({ verb: 'exchange', mode: 'selector' })
      expect(JSON.parse(annotations['ktx.dev/original-selector']!)).toMatchObject({
        selector: { app: 'web' },
      })
      const shadow = JSON.parse(
        await kubectl(env, [
          '-n',
          suite.namespace,
          'get',
          'pods',
          '-l',
          'ktx.dev/role=exchange',
          '-o',
          'json',
        ]),
      ) as { items: { metadata: { ownerReferences: { kind: string }[] } }[] }
      expect(shadow.items).toHaveLength(1)
      expect(shadow.items[0]!.metadata.ownerReferences[0]!.kind).toBe('Lease')

      // A CD pipeline re-applies the Service: ktx notices, says so, and the laptop keeps answering.
      await kubectl(env, ['apply', '-f', '-'], webServiceManifest(suite.namespace))
      await vi.waitFor(() => expect(ktx.output().stderr).toContain('pointed it at the shadow pod again'), {
        timeout: 20_000,
        interval: 200,
      })
      await vi.waitFor(
        async () =>
          expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP_A}\n`),
        { timeout: 20_000, interval: 500 },
      )
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
    }
    const result = await ktx.exited
    expect(result.stderr).toContain('Disconnected')
    expect(result.code).toBe(0)
    await expectRealPods()
    await expectUntouched()
  })
})

describe('ktx exchange --mode scale', () => {
  it('scales the Deployment to 0 behind a labelled shadow; Ctrl+C scales it back and waits until it is Ready', async () => {
    const ktx = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--mode',
      'scale',
      '--expose',
      `${portA}:8080,${portB}:90`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    try {
      expect(await ktx.ready).toContain('deployment/web scaled to 0')
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP_A}\n`)
      expect((await getFromCluster(env, suite.namespace, 'http://web:9000/')).stdout).toBe(`${LAPTOP_B}\n`)
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
      const replicas = JSON.parse(
        (await annotationsOf(env, suite.namespace, 'deployment', 'web'))['ktx.dev/original-replicas']!,
      ) as {
        replicas: number
      }
      expect(replicas.replicas).toBe(2)
      // The shadow carries the workload's labels and is the Service's only ready endpoint.
      const shadow = JSON.parse(
        await kubectl(env, [
          '-n',
          suite.namespace,
          'get',
          'pods',
          '-l',
          'ktx.dev/role=exchange',
          '-o',
          'json',
        ]),
      ) as { items: { metadata: { labels: Record<string, string> }; status: { podIP: string } }[] }
      expect(shadow.items).toHaveLength(1)
      expect(shadow.items[0]!.metadata.labels.app).toBe('web')
      expect(await readyEndpoints(suite.namespace, 'web')).toEqual([shadow.items[0]!.status.podIP])
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
    }
    const result = await ktx.exited
    expect(result.code).toBe(0)
    // ktx waited for readiness before it exited: both replicas are Ready now.
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
    await expectRealPods()
    await expectUntouched()
  })
})

describe('a local port nobody listens on', () => {
  it('is a warning at start, a reset for the caller, and works once a server appears', async () => {
    const closed = await freeLaptopPort(env)
    const ktx = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--expose',
      `${closed}:8080`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    let late: LaptopServers | undefined
    try {
      await ktx.ready
      expect(ktx.output().stderr).toContain(
        `Warning: nothing listens on 127.0.0.1:${closed} (for pod port 8080)`,
      )
      expect(ktx.output().stderr).toContain('target port 90 (Service port 9000 "admin") is not exposed')
      // A reset, not a hang: the caller learns at once that nothing answers.
      const started = Date.now()
      const refused = await getFromCluster(env, suite.namespace, 'http://web/')
      expect(refused.code).not.toBe(0)
      expect(refused.stdout).toBe('')
      expect(Date.now() - started).toBeLessThan(5_000)
      late = await startLaptopServers(env, [{ body: 'late server', port: closed }])
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe('late server\n')
      expect(ktx.child.exitCode).toBeNull()
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
      await late?.close()
    }
    expect((await ktx.exited).code).toBe(0)
    await expectUntouched()
  })
})

describe('with a ServiceAccount', () => {
  it('that has just the documented rights: both modes work, with the namespace from the context', async () => {
    const kubeconfig = await tokenKubeconfig(env, suite.namespace, 'ktx-exchanger', EXCHANGE_RULES)
    for (const mode of ['selector', 'scale']) {
      const ktx = startKtxExchange(env, [
        'web',
        '--kubeconfig',
        kubeconfig,
        '--mode',
        mode,
        '--expose',
        `${portA}:8080`,
        '--image',
        env.SHADOW_IMAGE,
      ])
      try {
        await ktx.ready
        expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout, mode).toBe(`${LAPTOP_A}\n`)
      } finally {
        ktx.child.kill('SIGINT')
        await ktx.exited
      }
      expect((await ktx.exited).code, mode).toBe(0)
      await expectUntouched()
    }
  })

  it('that may not patch Services: names the verb and resource (exit 4) and changes nothing', async () => {
    const rules = EXCHANGE_RULES.replace(
      'verbs: [get, list, watch, patch]\n- apiGroups: [discovery',
      'verbs: [get, list, watch]\n- apiGroups: [discovery',
    )
    expect(rules).not.toBe(EXCHANGE_RULES)
    const kubeconfig = await tokenKubeconfig(env, suite.namespace, 'ktx-no-patch', rules)
    const result = await runKtx(env, [
      'exchange',
      'web',
      '--kubeconfig',
      kubeconfig,
      '--expose',
      `${portA}:8080`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    expect(result.code).toBe(4)
    expect(result.stderr).toContain(
      `Error (KTX_KUBE_FORBIDDEN): Not allowed to patch services in namespace "${suite.namespace}"`,
    )
    await expectUntouched()
  })
})

describe('Ctrl+C during setup', () => {
  it('after the Service was locked: unwinds, exits 130 and leaves the Service untouched', async () => {
    // An image that never arrives holds the session at "waiting for the shadow pod", lock taken.
    const ktx = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--expose',
      `${portA}:8080`,
      '--image',
      'localhost/ktx-never-pulled:v0',
    ])
    await vi.waitFor(() => expect(ktx.output().stderr).toContain('Waiting for the shadow pod'), {
      timeout: 30_000,
      interval: 100,
    })
    expect(Object.keys(await annotationsOf(env, suite.namespace, 'service', 'web'))).toContain('ktx.dev/lock')
    ktx.child.kill('SIGINT')
    const result = await ktx.exited
    expect(result.code).toBe(130)
    expect(result.stderr).toContain('Interrupted by SIGINT')
    await expectRealPods()
    await expectUntouched()
  })
})

describe('bad input changes nothing', () => {
  it('a remote port that is only a Service port lists the target ports (exit 2)', async () => {
    const result = await runKtx(env, [
      'exchange',
      'web',
      '-n',
      suite.namespace,
      '--expose',
      `${portA}:80`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(
      'Error (KTX_EXPOSE_INVALID): Port 80 is not a target port of Service "web"',
    )
    expect(result.stderr).toContain(
      'Its target ports: 8080 "http" (Service port 80 "http"); 90 (Service port 9000 "admin")',
    )
    await expectUntouched()
  })

  it('an unknown Service names the ones that exist (exit 6)', async () => {
    const result = await runKtx(env, ['exchange', 'webb', '-n', suite.namespace, '--expose', `${portA}:8080`])
    expect(result.code).toBe(6)
    expect(result.stderr).toContain(
      `Error (KTX_SERVICE_NOT_FOUND): Service "webb" not found in namespace "${suite.namespace}"`,
    )
    expect(result.stderr).toContain('web')
    await expectUntouched()
  })

  it('ktx recover on an untouched Service does nothing', async () => {
    const result = await runKtx(env, ['recover', 'web', '-n', suite.namespace])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('has nothing of ktx on it')
    await expectUntouched()
  })
})
