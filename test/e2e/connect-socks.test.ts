/**
 * `ktx connect --mode socks` against the real test cluster, run from the laptop network namespace
 * (which reaches only the API server). First the negative control shows the laptop cannot reach
 * the workload; then ktx makes it reachable by short name, `name.ns`, FQDN, ClusterIP and Pod IP,
 * through the CLI and the library. Every exit path must leave no ktx object behind (checked in the
 * test's namespace, where every session of this file lives; the cluster is shared), and the
 * session's private key must never reach the cluster.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { beforeAll, describe, expect, it, vi } from 'vitest'

import {
  type ClusterEnv,
  type WebWorkload,
  deployWeb,
  inLaptop,
  kubectl,
  tokenKubeconfig,
} from '../harness/cluster.js'
import { runKtxConnect, spawnInLaptop, startKtxConnect } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({
  namespace: 'socks',
  shadowImage: true,
  negativeControl: {
    unreachable: () => [
      `http://${web.podIPs[0]}:8080/`,
      `http://${web.clusterIP}/`,
      `http://web.${suite.namespace}/`,
    ],
  },
})
const env: ClusterEnv = suite.env
const libraryScript = fileURLToPath(new URL('./fixtures/library-connect.mjs', import.meta.url))
let web: WebWorkload

function curlSocks(port: number, url: string) {
  return inLaptop(env, 'curl', ['-sS', '--max-time', '10', '--socks5-hostname', `127.0.0.1:${port}`, url], {
    timeoutMs: 20_000,
  })
}

beforeAll(async () => {
  web = await deployWeb(env, suite.namespace, 'web', { body: `socks e2e page ${suite.namespace}` })
})

describe('ktx connect --mode socks (CLI)', () => {
  it('with --proxyAuth: both proxies answer only with the printed credentials', async () => {
    const ktx = startKtxConnect(env, ['-n', suite.namespace, '--image', env.SHADOW_IMAGE, '--proxyAuth'])
    try {
      const { socksUrl, socksPort, httpUrl, httpPort } = await ktx.ready
      expect(socksUrl).toMatch(/^socks5h:\/\/ktx:[\w-]{22}@127\.0\.0\.1:\d+$/)
      const url = `http://web.${suite.namespace}/`
      const withCredentials = await inLaptop(env, 'curl', ['-sS', '--max-time', '10', '-x', socksUrl, url])
      expect(withCredentials.stdout.trim()).toBe(web.body)
      const viaHttp = await inLaptop(env, 'curl', ['-sS', '--max-time', '10', '-x', httpUrl, url])
      expect(viaHttp.stdout.trim()).toBe(web.body)
      // Another local user without them: refused by both, nothing reaches the cluster.
      const anonymous = await curlSocks(socksPort, url)
      expect(anonymous.code).not.toBe(0)
      expect(anonymous.stdout).toBe('')
      const anonymousHttp = await inLaptop(env, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-x',
        `http://127.0.0.1:${httpPort}`,
        url,
      ])
      expect(anonymousHttp.stdout).toBe('407')
    } finally {
      ktx.child.kill('SIGINT')
    }
    expect((await ktx.exited).code).toBe(0)
    await suite.expectNoLeftovers()
  })

  it('reaches the Service by short name, name.ns, FQDN, ClusterIP and Pod IP; SIGINT removes everything', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ktx-socks-state-'))
    const ktx = startKtxConnect(env, ['-n', suite.namespace, '--image', env.SHADOW_IMAGE], {
      KTX_STATE_DIR: stateDir,
    })
    try {
      const { socksPort, httpUrl } = await ktx.ready
      const targets = [
        'http://web/',
        `http://web.${suite.namespace}/`,
        `http://web.${suite.namespace}.svc.cluster.local/`,
        `http://${web.clusterIP}/`,
        `http://${web.podIPs[0]}:8080/`,
      ]
      for (const url of targets) {
        const result = await curlSocks(socksPort, url)
        expect(result.stderr, url).toBe('')
        expect(result.stdout.trim(), url).toBe(web.body)
      }
      const viaHttp = await inLaptop(env, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '-x',
        httpUrl,
        `http://web.${suite.namespace}/`,
      ])
      expect(viaHttp.stdout.trim()).toBe(web.body)
      const viaConnect = await inLaptop(env, 'curl', [
        '-sS',
        '--max-time',
        '10',
        '-p',
        '-x',
        httpUrl,
        `http://web.${suite.namespace}/`,
      ])
      expect(viaConnect.stdout.trim()).toBe(web.body)

      // While connected: the shadow pod is labelled and owned by the session Lease, and carries
      // only the public key.
      const pods = JSON.parse(
        await kubectl(env, ['-n', suite.namespace, 'get', 'pods', '-l', 'ktx.dev/role=shadow', '-o', 'json']),
      ) as {
        items: {
          metadata: {
            name: string
            labels: Record<string, string>
            ownerReferences?: { kind: string }[]
          }
          spec: unknown
        }[]
      }
      expect(pods.items).toHaveLength(1)
      const pod = pods.items[0]!
      // The image build put ssh2's native crypto beside the bundle, and the agent in the pod loaded it.
      const agentLog = await kubectl(env, ['-n', suite.namespace, 'logs', pod.metadata.name])
      expect(agentLog).toMatch(/"message":"Agent ready".*"sshCrypto":"native"/)
      expect(pod.metadata.labels['app.kubernetes.io/managed-by']).toBe('ktx')
      expect(pod.metadata.ownerReferences?.[0]?.kind).toBe('Lease')
      const podJson = JSON.stringify(pod)
      expect(podJson).toMatch(/"KTX_AUTHORIZED_KEY","value":"ssh-ed25519 /)
      expect(podJson).not.toMatch(/PRIVATE KEY/)
      for (const kind of ['configmaps', 'secrets']) {
        const all = await kubectl(env, ['get', kind, '-A', '-o', 'json'])
        expect(all, kind).not.toMatch(/OPENSSH PRIVATE KEY|BEGIN PRIVATE KEY/)
      }
    } finally {
      ktx.child.kill('SIGINT')
    }
    const result = await ktx.exited
    expect(result.stderr).toContain('Disconnected')
    expect(result.code).toBe(0)
    // The dials went over the direct data path (the default), not its SSH fallback alone.
    const log = readdirSync(join(stateDir, 'logs'))
      .map((file) => readFileSync(join(stateDir, 'logs', file), 'utf8'))
      .join('')
    expect(log).toContain('"msg":"Direct data path ready"')
    const closed = /"msg":"Direct data path closed".*"dials":(\{[^}]*\})/.exec(log)
    expect(closed, 'the session logs its dials when it closes').not.toBeNull()
    expect((JSON.parse(closed![1]!) as { direct: number }).direct).toBeGreaterThan(0)
    await suite.expectNoLeftovers()
  })

  it('works with a bearer-token ServiceAccount that has just the rights ktx needs', async () => {
    const kubeconfig = await tokenKubeconfig(
      env,
      suite.namespace,
      'ktx-user',
      `${LEASES_RULE}\n${PODS_RULES}`,
    )
    // No -n: the namespace comes from the kubeconfig context.
    const ktx = startKtxConnect(env, ['--image', env.SHADOW_IMAGE], { KUBECONFIG: kubeconfig })
    try {
      const { socksPort } = await ktx.ready
      const result = await curlSocks(socksPort, 'http://web/')
      expect(result.stdout.trim()).toBe(web.body)
    } finally {
      ktx.child.kill('SIGINT')
    }
    expect((await ktx.exited).code).toBe(0)
    await suite.expectNoLeftovers()
  })

  it('makes a new shadow pod when the one under it is deleted, and keeps answering on the same proxy', async () => {
    const ktx = startKtxConnect(env, ['-n', suite.namespace, '--image', env.SHADOW_IMAGE])
    const { socksPort } = await ktx.ready
    const first = await kubectl(env, [
      '-n',
      suite.namespace,
      'get',
      'pods',
      '-l',
      'ktx.dev/role=shadow',
      '-o',
      'name',
    ])
    await kubectl(env, ['-n', suite.namespace, 'delete', 'pods', '-l', 'ktx.dev/role=shadow', '--wait=false'])
    await vi.waitFor(
      () => expect(ktx.output().stderr).toMatch(/^Tunnel back after [\d.]+s over a new shadow pod/m),
      {
        timeout: 120_000,
        interval: 200,
      },
    )
    expect(ktx.output().stderr).toMatch(/^Tunnel to the cluster broke .*; reconnecting/m)
    const result = await curlSocks(socksPort, `http://web.${suite.namespace}/`)
    expect(result.stdout.trim()).toBe(web.body)
    const second = await kubectl(env, [
      '-n',
      suite.namespace,
      'get',
      'pods',
      '-l',
      'ktx.dev/role=shadow',
      '-o',
      'name',
    ])
    expect(second.trim()).not.toBe('')
    expect(second.trim()).not.toBe(first.trim())
    ktx.child.kill('SIGINT')
    expect((await ktx.exited).code).toBe(0)
    await suite.expectNoLeftovers()
  })
  it('deleting the session Lease garbage-collects the shadow pod; ktx ends at once saying why', async () => {
    const ktx = startKtxConnect(env, [
      '-n',
      suite.namespace,
      '--socks-port',
      '0',
      '--http-port',
      '0',
      '--image',
      env.SHADOW_IMAGE,
    ])
    await ktx.ready
    // Only the Lease is deleted: the pod must go through its ownerReference (the GC), not through ktx.
    await kubectl(env, [
      '-n',
      suite.namespace,
      'delete',
      'leases.coordination.k8s.io',
      '-l',
      'ktx.dev/role=session',
    ])
    const result = await ktx.exited
    expect(result.code).toBe(7)
    expect(result.stderr).toMatch(/Error \(KTX_LEASE_LOST\): The session's Lease .* was deleted/)
    await suite.expectNoLeftovers()
  })

  it('a Ctrl+C during setup unwinds what was made and exits 130', async () => {
    // An image that never arrives keeps the session in "waiting for the shadow pod".
    const ktx = startKtxConnect(env, ['-n', suite.namespace, '--image', 'localhost/ktx-never-pulled:v0'])
    await vi.waitFor(() => expect(ktx.output().stderr).toContain('Waiting for the shadow pod'), {
      timeout: 30_000,
      interval: 100,
    })
    ktx.child.kill('SIGINT')
    const result = await ktx.exited
    expect(result.code).toBe(130)
    expect(result.stderr).toContain('Interrupted by SIGINT')
    await suite.expectNoLeftovers()
  })
})

describe('connect() as a library', () => {
  it('fetches through the dispatcher and the http.Agent, and `await using` cleans up', async () => {
    const child = spawnInLaptop(env, libraryScript, [
      suite.namespace,
      env.SHADOW_IMAGE,
      `http://web.${suite.namespace}/`,
    ])
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const [first, second] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(first).toMatchObject({ status: 200, fetched: `${web.body}\n`, agentBody: `${web.body}\n` })
    expect(second).toEqual({ closed: first!.id })
    await suite.expectNoLeftovers()
  })
})

describe('bad input fails clearly and leaves nothing behind', () => {
  it('an unknown context lists the available ones (exit 3)', async () => {
    const result = await runKtxConnect(env, ['--context', 'no-such-context'])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/Error \(KTX_KUBE_CONTEXT_NOT_FOUND\): Context "no-such-context" not found/)
    expect(result.stderr).toMatch(/available contexts: \S+/)
    await suite.expectNoLeftovers()
  })

  it('a missing namespace (exit 3)', async () => {
    const result = await runKtxConnect(env, ['-n', 'no-such-namespace-ktx', '--image', env.SHADOW_IMAGE])
    expect(result.code).toBe(3)
    expect(result.stderr).toContain(
      'Error (KTX_KUBE_NAMESPACE_NOT_FOUND): Namespace "no-such-namespace-ktx" does not exist',
    )
    await suite.expectNoLeftovers()
  })

  it('an RBAC denial names the verb and resource (exit 4)', async () => {
    const kubeconfig = await tokenKubeconfig(env, suite.namespace, 'leases-only', LEASES_RULE)
    const result = await runKtxConnect(env, ['-n', suite.namespace, '--image', env.SHADOW_IMAGE], {
      KUBECONFIG: kubeconfig,
    })
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(
      /Error \(KTX_KUBE_FORBIDDEN\): Not allowed to create pods in namespace "socks-/,
    )
    expect(result.stderr).toContain('kubectl auth can-i create pods')
    await suite.expectNoLeftovers()
  })

  it('an unreachable API server (exit 7)', async () => {
    const kubeconfig = rewriteServer(env.KUBECONFIG_LAPTOP, 'https://127.0.0.1:1')
    const result = await runKtxConnect(env, ['--image', env.SHADOW_IMAGE], { KUBECONFIG: kubeconfig })
    expect(result.code).toBe(7)
    expect(result.stderr).toContain(
      'Error (KTX_KUBE_UNREACHABLE): API server unreachable at https://127.0.0.1:1',
    )
    await suite.expectNoLeftovers()
  })

  it('an image that cannot be pulled names the image and pod (exit 6)', async () => {
    const image = 'localhost/ktx-no-such-image:v0'
    const result = await runKtxConnect(env, [
      '-n',
      suite.namespace,
      '--image',
      image,
      '--podCreationTimeout',
      '90',
    ])
    expect(result.code).toBe(6)
    expect(result.stderr).toMatch(
      /Error \(KTX_SHADOW_IMAGE_PULL\): Shadow pod socks-\w+\/ktx-shadow-\w+ cannot get image "localhost\/ktx-no-such-image:v0"/,
    )
    await suite.expectNoLeftovers()
  })

  it('an image that is not a ktx agent exits and is reported (exit 6)', async () => {
    const result = await runKtxConnect(env, [
      '-n',
      suite.namespace,
      '--image',
      env.BUSYBOX_IMAGE,
      '--podCreationTimeout',
      '60',
    ])
    expect(result.code).toBe(6)
    expect(result.stderr).toMatch(/Error \(KTX_SHADOW_(CRASHED|NOT_READY)\): Shadow pod/)
    expect(result.stderr).toContain(env.BUSYBOX_IMAGE)
    await suite.expectNoLeftovers()
  })
})

const LEASES_RULE = `- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create, get, update, delete]`
const PODS_RULES = `- apiGroups: ['']
  resources: [pods]
  verbs: [create, get, list, watch, delete]
- apiGroups: ['']
  resources: [pods/portforward]
  verbs: [create, get]`

/** A copy of a kubeconfig whose server URLs point at `server`. */
function rewriteServer(source: string, server: string): string {
  const text = readFileSync(source, 'utf8').replace(/server: \S+/g, `server: ${server}`)
  const file = join(mkdtempSync(join(tmpdir(), 'ktx-unreachable-')), 'kubeconfig')
  writeFileSync(file, text)
  return file
}
