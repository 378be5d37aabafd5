/**
 * `ktx preview` against the real test cluster. ktx and the developer's servers run in the laptop
 * network namespace; the caller is a busybox pod. The negative control shows the pod can neither
 * resolve the preview's name nor reach the laptop; then the preview makes `http://<name>.<ns>:<port>`
 * answer from the laptop, and Ctrl+C leaves nothing. A name that is taken by a Service ktx did not
 * make is refused with nothing created; a killed session's Service is reaped by `ktx clean`,
 * deleted by `ktx recover`, garbage-collected with its Lease, or taken over by the next preview.
 * Sessions that are killed use a 10 s lease; the tests wait for it to lapse by watching it.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import {
  type ClusterEnv,
  type FixtureNamespace,
  createFixtureNamespace,
  kubectl,
  loadClusterEnv,
  tokenKubeconfig,
} from '../harness/cluster.js'
import {
  type LaptopServers,
  freeLaptopPort,
  getFromCluster,
  laptopIp,
  runKtx,
  specOf,
  startLaptopServers,
} from '../harness/exchange.js'
import {
  type ProcessResult,
  killHard,
  ktxLeftovers,
  startLibraryScript,
  waitLeasesLapsed,
} from '../harness/ktx.js'
import {
  PREVIEW_RULES,
  type RunningPreview,
  deployClientPod,
  serviceOf,
  startKtxPreview,
} from '../harness/preview.js'

const env: ClusterEnv = loadClusterEnv()
const importImage = fileURLToPath(
  new URL('../../packages/shadow-image/scripts/import-local.sh', import.meta.url),
)
const libraryScript = fileURLToPath(new URL('./fixtures/library-preview.mjs', import.meta.url))
let ns: FixtureNamespace
let laptop: LaptopServers
let portA: number
let portB: number

const LAPTOP_A = 'preview answered by the laptop server A'
const LAPTOP_B = 'preview answered by the laptop server B'

beforeAll(async () => {
  await promisify(execFile)('bash', [importImage], { timeout: 120_000 })
  ns = await createFixtureNamespace(env, 'ktx-e2e-preview')
  await deployClientPod(env, ns.name)
  laptop = await startLaptopServers(env, [LAPTOP_A, LAPTOP_B])
  ;[portA, portB] = laptop.ports as [number, number]
})

afterAll(async () => {
  // Either may be missing when the set-up failed half-way; the namespace must go regardless.
  await (laptop as LaptopServers | undefined)?.close()
  await (ns as FixtureNamespace | undefined)?.close()
})

// `ktx preview <name> --expose <expose>`; by default laptop server A answers port 80.
function previewOf(name: string, extra: readonly string[] = [], expose = `${portA}:80`): RunningPreview {
  return startKtxPreview(env, [
    name,
    '-n',
    ns.name,
    '--expose',
    expose,
    '--image',
    env.SHADOW_IMAGE,
    ...extra,
  ])
}

async function stop(ktx: RunningPreview): Promise<ProcessResult> {
  if (ktx.child.exitCode === null && ktx.child.signalCode === null) ktx.child.kill('SIGINT')
  return ktx.exited
}

async function expectUnreachable(url: string): Promise<void> {
  const result = await getFromCluster(env, ns.name, url)
  expect(result.code, url).not.toBe(0)
  expect(result.stdout, url).toBe('')
}

describe('negative control: without ktx', () => {
  it('the pod cannot reach the laptop, and the preview name does not exist', async () => {
    await expectUnreachable(`http://${laptopIp(env)}:${portA}/`)
    await expectUnreachable(`http://web-preview.${ns.name}/`)
    expect(await serviceOf(env, ns.name, 'web-preview')).toBeUndefined()
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})

describe('ktx preview (CLI)', () => {
  it('makes <name>.<ns>:<remote> answer from the laptop on both ports; Ctrl+C deletes the Service and the pod', async () => {
    const ktx = previewOf('web-preview', [], `${portA}:80,${portB}:8080`)
    try {
      const summary = await ktx.ready
      expect(summary).toContain(`Preview: Service ${ns.name}/web-preview (ClusterIP `)
      expect(summary).toContain(`web-preview.${ns.name}:80 → localhost:${portA}`)
      expect(summary).toContain(`web-preview.${ns.name}:8080 → localhost:${portB}`)
      // Ready means routed: the very first call from the cluster is answered, no retry.
      expect((await getFromCluster(env, ns.name, `http://web-preview.${ns.name}:80/`)).stdout).toBe(
        `${LAPTOP_A}\n`,
      )
      expect((await getFromCluster(env, ns.name, `http://web-preview.${ns.name}:8080/`)).stdout).toBe(
        `${LAPTOP_B}\n`,
      )
      expect(
        (await getFromCluster(env, ns.name, `http://web-preview.${ns.name}.svc.cluster.local/`)).stdout,
      ).toBe(`${LAPTOP_A}\n`)

      // The Service: ktx's, owned by the session Lease, selecting only the session's shadow pod.
      const service = (await serviceOf(env, ns.name, 'web-preview'))!
      expect(service.spec.type).toBe('ClusterIP')
      expect(service.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([
        [80, 80],
        [8080, 8080],
      ])
      expect(service.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'ktx',
        'ktx.dev/role': 'preview',
      })
      const session = service.metadata.labels!['ktx.dev/session']!
      expect(service.spec.selector).toEqual({ 'ktx.dev/preview': session })
      expect(service.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Lease', name: `ktx-${session}` }),
      ])
      const pods = JSON.parse(
        await kubectl(env, ['-n', ns.name, 'get', 'pods', '-l', `ktx.dev/preview=${session}`, '-o', 'json']),
      ) as { items: { metadata: { labels: Record<string, string> } }[] }
      expect(pods.items).toHaveLength(1)
      expect(pods.items[0]!.metadata.labels['ktx.dev/role']).toBe('preview')
    } finally {
      await stop(ktx)
    }
    const result = await ktx.exited
    expect(result.stderr).toContain('Disconnected')
    expect(result.code).toBe(0)
    expect(await serviceOf(env, ns.name, 'web-preview')).toBeUndefined()
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
    await expectUnreachable(`http://web-preview.${ns.name}/`)
  })

  it('--external makes the Service a LoadBalancer, still answered by the laptop', async () => {
    const ktx = previewOf('web-external', ['--external'])
    try {
      expect(await ktx.ready).toContain(`Preview: Service ${ns.name}/web-external (LoadBalancer, ClusterIP `)
      expect((await serviceOf(env, ns.name, 'web-external'))!.spec.type).toBe('LoadBalancer')
      expect((await getFromCluster(env, ns.name, `http://web-external.${ns.name}/`)).stdout).toBe(
        `${LAPTOP_A}\n`,
      )
    } finally {
      await stop(ktx)
    }
    expect((await ktx.exited).code).toBe(0)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})

describe('a local port nobody listens on', () => {
  it('is a warning at start, a reset for the caller, and works once a server appears', async () => {
    const closed = await freeLaptopPort(env)
    const ktx = previewOf('late-server', [], `${closed}:80`)
    let late: LaptopServers | undefined
    try {
      await ktx.ready
      expect(ktx.output().stderr).toContain(
        `Warning: nothing listens on 127.0.0.1:${closed} (for pod port 80)`,
      )
      await expectUnreachable(`http://late-server.${ns.name}/`)
      late = await startLaptopServers(env, [{ body: 'late server', port: closed }])
      expect((await getFromCluster(env, ns.name, `http://late-server.${ns.name}/`)).stdout).toBe(
        'late server\n',
      )
    } finally {
      await stop(ktx)
      await late?.close()
    }
    expect((await ktx.exited).code).toBe(0)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})

describe('with a ServiceAccount', () => {
  it('that has just the documented rights: works, with the namespace from the context', async () => {
    const kubeconfig = await tokenKubeconfig(env, ns.name, 'ktx-previewer', PREVIEW_RULES)
    const ktx = startKtxPreview(env, [
      'rbac-preview',
      '--kubeconfig',
      kubeconfig,
      '--expose',
      `${portA}:80`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    try {
      expect(await ktx.ready).toContain(`Preview: Service ${ns.name}/rbac-preview`)
      expect((await getFromCluster(env, ns.name, `http://rbac-preview.${ns.name}/`)).stdout).toBe(
        `${LAPTOP_A}\n`,
      )
    } finally {
      await stop(ktx)
    }
    expect((await ktx.exited).code).toBe(0)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})

describe('a name that is taken', () => {
  it('by a Service ktx did not make: refused (exit 5) naming it, nothing created, that Service untouched', async () => {
    await kubectl(env, ['-n', ns.name, 'create', 'service', 'clusterip', 'taken', '--tcp=80:8080'])
    const before = await specOf(env, ns.name, 'service', 'taken')
    const result = await runKtx(env, [
      'preview',
      'taken',
      '-n',
      ns.name,
      '--expose',
      `${portA}:80`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    expect(result.code).toBe(5)
    expect(result.stderr).toContain(
      `Error (KTX_SERVICE_EXISTS): A Service "taken" already exists in namespace "${ns.name}" and was not made by ktx preview`,
    )
    expect(result.stderr).toContain('Pick another name for the preview')
    // The name was checked before anything was made: no lease, no pod, not even for a moment.
    expect(result.stderr).not.toContain('Creating session lease')
    expect(await specOf(env, ns.name, 'service', 'taken')).toBe(before)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])

    const recover = await runKtx(env, ['recover', 'taken', '-n', ns.name])
    expect(recover.code).toBe(0)
    expect(recover.stdout).toContain('has nothing of ktx on it')
    expect(await specOf(env, ns.name, 'service', 'taken')).toBe(before)
    await kubectl(env, ['-n', ns.name, 'delete', 'service', 'taken'])
  })

  it('by a live preview: refused (exit 5) naming its owner; the first preview keeps working', async () => {
    const first = previewOf('shared-name')
    try {
      await first.ready
      const second = await runKtx(env, [
        'preview',
        'shared-name',
        '-n',
        ns.name,
        '--expose',
        `${portB}:80`,
        '--image',
        env.SHADOW_IMAGE,
      ])
      expect(second.code).toBe(5)
      expect(second.stderr).toMatch(
        /Error \(KTX_SERVICE_LOCKED\): Service "shared-name" is already a preview of \S+@\S+ \(session [0-9a-f]{8}\), last alive/,
      )
      expect((await getFromCluster(env, ns.name, `http://shared-name.${ns.name}/`)).stdout).toBe(
        `${LAPTOP_A}\n`,
      )
    } finally {
      await stop(first)
    }
    expect((await first.exited).code).toBe(0)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})

describe('kill -9 during a preview', () => {
  it('then ktx clean: leaves a live session alone, removes the Service, pod and Lease once it lapsed', async () => {
    const ktx = previewOf('killed', ['--leaseDuration', '10'])
    await ktx.ready
    await killHard(ktx)

    const whileAlive = await runKtx(env, ['clean', '-n', ns.name, '--clusterOnly'])
    expect(whileAlive.code).toBe(0)
    expect(whileAlive.stdout).toMatch(/left alone \(alive\): [0-9a-f]{8}/)
    expect(await serviceOf(env, ns.name, 'killed')).toBeDefined()

    await waitLeasesLapsed(env, ns.name)
    const cleaned = await runKtx(env, ['clean', '-n', ns.name, '--clusterOnly'])
    expect(cleaned.code).toBe(0)
    expect(cleaned.stdout).toContain('deleted service/killed')
    expect(cleaned.stdout).toMatch(/deleted pod\/ktx-preview-killed-[0-9a-f]{8}/)
    expect(cleaned.stdout).toMatch(/deleted lease\/ktx-[0-9a-f]{8}/)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })

  it('then ktx recover <name>: refused while the owner may be alive, deletes the preview once it lapsed', async () => {
    const ktx = previewOf('recovered', ['--leaseDuration', '10'])
    await ktx.ready
    await killHard(ktx)

    const early = await runKtx(env, ['recover', 'recovered', '-n', ns.name])
    expect(early.code).toBe(5)
    expect(early.stderr).toMatch(
      /Error \(KTX_SESSION_ALIVE\): Service "recovered" is held by a session that is still running/,
    )
    expect(await serviceOf(env, ns.name, 'recovered')).toBeDefined()

    await waitLeasesLapsed(env, ns.name)
    const recovered = await runKtx(env, ['recover', 'recovered', '-n', ns.name])
    expect(recovered.code).toBe(0)
    expect(recovered.stdout).toContain(`Recovered Service ${ns.name}/recovered`)
    expect(recovered.stdout).toContain('deleted service/recovered')
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })

  it('then a new preview of the same name takes it over once the old lease lapsed', async () => {
    const first = previewOf('reused', ['--leaseDuration', '10'])
    await first.ready
    const oldClusterIP = (await serviceOf(env, ns.name, 'reused'))!.spec.clusterIP
    await killHard(first)
    await waitLeasesLapsed(env, ns.name)

    const second = startKtxPreview(env, [
      'reused',
      '-n',
      ns.name,
      '--expose',
      `${portB}:80`,
      '--image',
      env.SHADOW_IMAGE,
    ])
    try {
      await second.ready
      expect(second.output().stderr).toMatch(
        /Service reused was left by preview session [0-9a-f]{8} of \S+ \(last alive .*\); deleted it and its shadow pod before taking the name over/,
      )
      expect((await getFromCluster(env, ns.name, `http://reused.${ns.name}/`)).stdout).toBe(`${LAPTOP_B}\n`)
      // The same address: callers whose DNS still caches it reach the new session at once.
      expect((await serviceOf(env, ns.name, 'reused'))!.spec.clusterIP).toBe(oldClusterIP)
    } finally {
      await stop(second)
    }
    expect((await second.exited).code).toBe(0)
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })

  it('and nobody runs ktx: deleting the lapsed Lease garbage-collects the Service and the pod', async () => {
    const ktx = previewOf('orphan', ['--leaseDuration', '10'])
    await ktx.ready
    await killHard(ktx)
    const session = (await serviceOf(env, ns.name, 'orphan'))!.metadata.labels!['ktx.dev/session']!
    await kubectl(env, ['-n', ns.name, 'delete', 'lease', `ktx-${session}`])
    await vi.waitFor(async () => expect(await ktxLeftovers(env, ns.name)).toEqual([]), {
      timeout: 60_000,
      interval: 500,
    })
  })
})

describe('preview() (library)', () => {
  it('with await using: the Service answers from the laptop inside the block and is gone after it', async () => {
    const script = startLibraryScript(env, libraryScript, [
      ns.name,
      env.SHADOW_IMAGE,
      'lib-preview',
      `${portA}:80`,
    ])
    try {
      const ready = await script.ready
      expect(ready).toMatchObject({
        kind: 'preview',
        service: 'lib-preview',
        namespace: ns.name,
        type: 'ClusterIP',
        expose: [{ local: portA, remote: 80 }],
      })
      expect((await getFromCluster(env, ns.name, `http://lib-preview.${ns.name}/`)).stdout).toBe(
        `${LAPTOP_A}\n`,
      )
      expect((await serviceOf(env, ns.name, 'lib-preview'))!.spec.clusterIP).toBe(ready.clusterIP)
      expect(await script.leave()).toEqual({ code: 0, after: { closed: ready.id } })
    } finally {
      script.kill()
    }
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})
