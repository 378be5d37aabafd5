/**
 * Least privilege, on the real cluster: each verb run from the laptop with a ServiceAccount bound
 * to nothing but that verb's Role from the RBAC table (`docs/rbac/<profile>.yaml`), its token from
 * the TokenRequest API. Each works end to end; with one right taken away each fails with exit 4
 * and `KTX_KUBE_FORBIDDEN` naming the missing permission, and leaves the Service as it was.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { inLaptop, kubectl, run } from '../harness/cluster.js'
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
import { type RunningVerb, startKtx, startKtxConnect } from '../harness/ktx.js'
import { startKtxPreview } from '../harness/preview.js'
import { killedExchange } from '../harness/dead-session.js'
import { profileKubeconfig } from '../harness/rbac.js'
import { suiteFixture } from '../harness/suite.js'
import { startTunConnect } from '../harness/tun.js'

const suite = suiteFixture({ namespace: 'rbac', shadowImage: true })
const { env } = suite
const LAPTOP = 'answered by the laptop'
let laptop: LaptopServers
let port: number
let serviceSpec: string

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  laptop = await startLaptopServers(env, [LAPTOP])
  port = laptop.ports[0]!
  serviceSpec = await specOf(env, suite.namespace, 'service', 'web')
})

afterAll(async () => {
  await (laptop as LaptopServers | undefined)?.close()
})

async function expectRealPods(): Promise<void> {
  expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toMatch(/^real web-/)
}

async function expectServiceAsItWas(): Promise<void> {
  expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(serviceSpec)
  await expectRealPods()
}

async function stop(session: RunningVerb | { child: RunningVerb['child']; exited: RunningVerb['exited'] }) {
  session.child.kill('SIGINT')
  const result = await session.exited
  expect(result.code, result.stderr).toBe(0)
}

// A refused verb fails within seconds; one that unexpectedly works would hold until killed.
const refusedRun = (args: readonly string[]) => runKtx(env, args, 90_000)

function expectForbidden(result: { code: number | null; stderr: string }, message: string): void {
  expect(result.code, result.stderr).toBe(4)
  expect(result.stderr).toContain(`Error (KTX_KUBE_FORBIDDEN): ${message}`)
  expect(result.stderr).toContain('Try this:')
}

describe('negative control: without ktx', () => {
  it('the laptop cannot reach the Service, and a cluster pod cannot reach the laptop', async () => {
    const clusterIP = (
      await kubectl(env, ['-n', suite.namespace, 'get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])
    ).trim()
    const direct = await inLaptop(env, 'curl', ['-sS', '--max-time', '3', `http://${clusterIP}/`])
    expect(direct.code).not.toBe(0)
    expect(direct.stdout).toBe('')
    await expectLaptopUnreachableFromCluster(env, suite.namespace, port)
    await expectRealPods()
  })
})

describe('connect --mode socks with the connect-socks Role', () => {
  it('reaches a Service by name through SOCKS5', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'connect-socks')
    const ktx = startKtxConnect(env, ['--image', env.SHADOW_IMAGE], { KUBECONFIG: kubeconfig })
    try {
      const { socksPort } = await ktx.ready
      const result = await inLaptop(env, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '--socks5-hostname',
        `127.0.0.1:${String(socksPort)}`,
        'http://web/',
      ])
      expect(result.stdout).toMatch(/^real web-/)
    } finally {
      await stop(ktx)
    }
    await suite.expectNoLeftovers()
  })

  // The WebSocket upgrade is a GET: on this API server (v1.33) `get` is the right it checks.
  it('without get on pods/portforward: names it, exit 4, nothing left', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'connect-socks', {
      verb: 'get',
      resource: 'pods/portforward',
    })
    const result = await refusedRun([
      'connect',
      '--mode',
      'socks',
      '--kubeconfig',
      kubeconfig,
      '-i',
      env.SHADOW_IMAGE,
    ])
    expectForbidden(result, 'Not allowed to port-forward to')
    expect(result.stderr).toContain('"pods/portforward"')
    await suite.expectNoLeftovers()
  })
})

describe('connect --mode tun with the connect-tun Role (no cluster-wide rights)', () => {
  it('--dryRun says how each range was found instead: the dry-run Service, a sample of pods', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'connect-tun')
    const result = await runKtx(env, ['connect', '--dryRun', '--kubeconfig', kubeconfig])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(`${env.CLUSTER_SERVICE_CIDR.replace(/[./]/g, '\\$&')} +apiserver-dry-run`),
    )
    expect(result.stdout).toContain("Service range from the API server's answer to an out-of-range ClusterIP")
    expect(result.stdout).toMatch(
      /Nodes not readable \(Not allowed to list nodes: .*\); pod ranges come from sampling pods/,
    )
    expect(result.stdout).toMatch(/\d+\.\d+\.\d+\.\d+\/\d+ +pod-sample/)
  })

  it('without create on services: no Service range, and it says to pass --includeIps', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'connect-tun', {
      verb: 'create',
      resource: 'services',
    })
    const result = await runKtx(env, ['connect', '--dryRun', '--kubeconfig', kubeconfig])
    expect(result.stdout + result.stderr).toContain('No Service range found; pass it with --includeIps')
  })

  it("reaches the Service's ClusterIP through the TUN device", async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'connect-tun')
    const home = mkdtempSync(join(tmpdir(), 'ktx-rbac-tun-'))
    const ktx = startTunConnect(
      env,
      [
        'connect',
        '--kubeconfig',
        kubeconfig,
        '-i',
        env.SHADOW_IMAGE,
        '--dnsMode',
        'none',
        '--tunName',
        `ktxrb${randomBytes(2).toString('hex')}`,
        '--tun2socks',
        env.TUN2SOCKS,
      ],
      home,
    )
    try {
      await ktx.ready
      const clusterIP = (
        await kubectl(env, [
          '-n',
          suite.namespace,
          'get',
          'service',
          'web',
          '-o',
          'jsonpath={.spec.clusterIP}',
        ])
      ).trim()
      const result = await inLaptop(env, 'curl', ['-sS', '--max-time', '10', `http://${clusterIP}/`])
      expect(result.stdout).toMatch(/^real web-/)
    } finally {
      await stop(ktx)
      rmSync(home, { recursive: true, force: true })
    }
    await suite.expectNoLeftovers()
  })
})

describe('exchange with the exchange Roles', () => {
  for (const mode of ['selector', 'scale'] as const) {
    it(`--mode ${mode}: a cluster pod's request reaches the laptop; Ctrl+C gives the Service back`, async () => {
      const kubeconfig = await profileKubeconfig(env, suite.namespace, `exchange-${mode}`)
      const ktx = startKtxExchange(env, exchangeArgs(kubeconfig, mode))
      try {
        await ktx.ready
        expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
      } finally {
        await stop(ktx)
      }
      await expectServiceAsItWas()
      await suite.expectNoLeftovers()
    })
  }

  // After the selector switch: the failure must put the Service back.
  it('selector, without list on endpointslices: names it, exit 4, the Service put back', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'exchange-selector', {
      verb: 'list',
      resource: 'endpointslices',
    })
    const result = await refusedRun(['exchange', ...exchangeArgs(kubeconfig, 'selector')])
    expectForbidden(result, `Not allowed to list endpointslices in namespace "${suite.namespace}"`)
    await expectServiceAsItWas()
    await suite.expectNoLeftovers()
  })

  it('scale, without patch on deployments: names it, exit 4, the Service as it was', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'exchange-scale', {
      verb: 'patch',
      resource: 'deployments',
    })
    const result = await refusedRun(['exchange', ...exchangeArgs(kubeconfig, 'scale')])
    expectForbidden(result, `Not allowed to patch deployments in namespace "${suite.namespace}"`)
    await expectServiceAsItWas()
    await suite.expectNoLeftovers()
  })
})

describe('mesh with the mesh Role', () => {
  it('marked requests reach the laptop, the rest the real pods', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'mesh')
    const ktx = startKtx(env, meshArgs(kubeconfig), 'Press Ctrl+C to stop')
    try {
      await ktx.ready
      expect((await getWithHeader('VERSION: alice')).stdout).toBe(`${LAPTOP}\n`)
      expect((await getWithHeader('VERSION: bob')).stdout).toMatch(/^real web-/)
    } finally {
      await stop(ktx)
    }
    await expectServiceAsItWas()
    await suite.expectNoLeftovers()
  })

  it('without create on services: names it, exit 4, the Service as it was', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'mesh', {
      verb: 'create',
      resource: 'services',
    })
    const result = await refusedRun(meshArgs(kubeconfig))
    expectForbidden(result, `Not allowed to create services in namespace "${suite.namespace}"`)
    await expectServiceAsItWas()
    await suite.expectNoLeftovers()
  })
})

describe('preview with the preview Role', () => {
  it('a new Service reaches the laptop; Ctrl+C deletes it', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'preview')
    const ktx = startKtxPreview(env, previewArgs(kubeconfig))
    try {
      await ktx.ready
      expect((await getFromCluster(env, suite.namespace, 'http://web-preview/')).stdout).toBe(`${LAPTOP}\n`)
    } finally {
      await stop(ktx)
    }
    await suite.expectNoLeftovers()
  })

  it('without create on services: names it, exit 4, nothing left', async () => {
    const kubeconfig = await profileKubeconfig(env, suite.namespace, 'preview', {
      verb: 'create',
      resource: 'services',
    })
    const result = await refusedRun(['preview', ...previewArgs(kubeconfig)])
    expectForbidden(result, `Not allowed to create services in namespace "${suite.namespace}"`)
    await suite.expectNoLeftovers()
  })
})

describe('status, clean and recover with their Roles, after a kill -9', () => {
  it('status lists the session; clean without list on leases is refused; recover and clean put the Service back', async () => {
    const statusConfig = await profileKubeconfig(env, suite.namespace, 'status')
    await killedExchange(env, suite.namespace, port, async (session) => {
      const status = await runKtx(env, ['status', '--cluster', '--kubeconfig', statusConfig])
      expect(status.code, status.stderr).toBe(0)
      expect(status.stdout).toContain(session)
      expect(status.stdout).toContain('web')
    })

    const noList = await profileKubeconfig(env, suite.namespace, 'clean', {
      verb: 'list',
      resource: 'leases',
    })
    const refused = await refusedRun(['clean', '--clusterOnly', '--kubeconfig', noList])
    expectForbidden(refused, `Not allowed to list leases in namespace "${suite.namespace}"`)
    expect(await specOf(env, suite.namespace, 'service', 'web')).not.toBe(serviceSpec)

    const recovered = await runKtx(env, [
      'recover',
      'web',
      '--kubeconfig',
      await profileKubeconfig(env, suite.namespace, 'recover'),
    ])
    expect(recovered.code, recovered.stderr).toBe(0)
    await expectServiceAsItWas()

    await killedExchange(env, suite.namespace, port)
    const cleaned = await runKtx(env, [
      'clean',
      '--clusterOnly',
      '--kubeconfig',
      await profileKubeconfig(env, suite.namespace, 'clean'),
    ])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(cleaned.stdout).toContain('web')
    await expectServiceAsItWas()
    await suite.expectNoLeftovers()
  })
})

function exchangeArgs(kubeconfig: string, mode: 'selector' | 'scale'): string[] {
  return [
    'web',
    '--kubeconfig',
    kubeconfig,
    '--mode',
    mode,
    '--expose',
    `${String(port)}:8080`,
    '-i',
    env.SHADOW_IMAGE,
  ]
}

function meshArgs(kubeconfig: string): string[] {
  return [
    'mesh',
    'web',
    '--kubeconfig',
    kubeconfig,
    '--expose',
    `${String(port)}:8080`,
    '--versionMark',
    'alice',
    '-i',
    env.SHADOW_IMAGE,
  ]
}

function previewArgs(kubeconfig: string): string[] {
  return ['web-preview', '--kubeconfig', kubeconfig, '--expose', `${String(port)}:80`, '-i', env.SHADOW_IMAGE]
}

function getWithHeader(header: string) {
  return run(env.KUBECTL, [
    '--kubeconfig',
    env.KUBECONFIG_HOST,
    '-n',
    suite.namespace,
    'exec',
    'client',
    '--',
    'timeout',
    '10',
    'wget',
    '-qO-',
    '--header',
    header,
    'http://web/',
  ])
}
