/**
 * The agent in router mode in the real test cluster, driven the way `ktx mesh` will drive it: core's
 * port-forward to the router pod, core's SSH client for the reverse forward (the developer's server
 * runs in this process), and core's control client over a second port-forward. Callers are pods
 * going through the Service in front of the router. The negative controls: without a route the
 * marked request reaches the real pods, and the control port cannot be reached from another pod.
 */
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import { noopLogger } from '@ktx/core'
import {
  AGENT_CONTROL_PORT,
  AGENT_ENV,
  AGENT_HEALTH_PORT,
  AGENT_SSH_PORT,
  encodeRouterPorts,
} from '@ktx/core/contract'
import { buildShadowPod, createKube, openPortForward } from '@ktx/core/kube'
import {
  type ReverseForward,
  type RouterControl,
  type SshConnection,
  openRouterControl,
  openSsh,
  startReverseForward,
} from '@ktx/core/tunnel'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { makeKey } from '../harness/agent-process.js'
import {
  type ClusterEnv,
  type FixtureNamespace,
  createFixtureNamespace,
  kubectl,
  loadClusterEnv,
  run,
} from '../harness/cluster.js'

const env: ClusterEnv = loadClusterEnv()
const importImage = fileURLToPath(
  new URL('../../packages/shadow-image/scripts/import-local.sh', import.meta.url),
)
const key = makeKey()
let ns: FixtureNamespace
let laptop: Server
let ssh: SshConnection | undefined
let reverse: ReverseForward | undefined
const controls: RouterControl[] = []

async function openControl(): Promise<RouterControl> {
  const kube = createKube({ kubeconfig: env.KUBECONFIG_HOST, namespace: ns.name })
  const stream = await openPortForward(kube, { pod: 'router', port: AGENT_CONTROL_PORT, timeoutMs: 30_000 })
  const control = openRouterControl(stream)
  controls.push(control)
  return control
}

/** One GET through the Service `web` from the client pod, optionally with `version: <mark>`. */
async function getWeb(mark?: string): Promise<string> {
  const header = mark === undefined ? [] : ['--header', `version: ${mark}`]
  const result = await run(
    env.KUBECTL,
    [
      '--kubeconfig',
      env.KUBECONFIG_HOST,
      '-n',
      ns.name,
      'exec',
      'client',
      '--',
      'timeout',
      '10',
      'wget',
      '-qO-',
      ...header,
      'http://web/',
    ],
    { timeoutMs: 30_000 },
  )
  if (result.code !== 0) throw new Error(`wget failed (${result.code}): ${result.stderr}`)
  return result.stdout.trim()
}

beforeAll(async () => {
  await promisify(execFile)('bash', [importImage], { timeout: 180_000 })
  ns = await createFixtureNamespace(env, 'router')
  const router = buildShadowPod({
    name: 'router',
    namespace: ns.name,
    sessionId: 'e2e-router',
    owner: 'e2e@test',
    image: env.SHADOW_IMAGE,
    authorizedKey: key.publicKey,
    labels: { app: 'router' },
    ports: [{ name: 'http', containerPort: 80 }],
  })
  router.spec?.containers[0]?.env?.push(
    { name: AGENT_ENV.mode, value: 'router' },
    { name: AGENT_ENV.routerPorts, value: encodeRouterPorts([{ port: 80, fallback: 'web-real:80' }]) },
  )
  const fixture = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns.name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: ${env.BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /srv && echo "real $HOSTNAME" > /srv/index.html && exec httpd -f -p 8080 -h /srv']
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web-real, namespace: ${ns.name}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns.name}}
spec:
  selector: {app: router}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${ns.name}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: client, image: ${env.BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [sleep, '86400']}
---
${JSON.stringify(router)}
`
  await kubectl(env, ['apply', '-f', '-'], fixture)
  await kubectl(env, ['-n', ns.name, 'rollout', 'status', 'deployment/web', '--timeout=120s'])
  await kubectl(env, [
    '-n',
    ns.name,
    'wait',
    '--for=condition=Ready',
    'pod/client',
    'pod/router',
    '--timeout=120s',
  ])
  // The router's fallback is a Service made a moment ago: the cluster's proxy follows the API a
  // little later (seen in CI as a 502 from the router on the first request). Observed, not slept.
  await vi.waitFor(async () => expect(await getWeb()).toMatch(/^real web-/), {
    timeout: 60_000,
    interval: 500,
  })
  laptop = createServer((_req, res) => res.end('answered by the laptop\n'))
  await new Promise<void>((resolve) => laptop.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  await Promise.all(controls.map((control) => control.close()))
  await reverse?.close()
  await ssh?.close()
  await new Promise<void>((resolve) => (laptop as Server | undefined)?.close(() => resolve()) ?? resolve())
  await (ns as FixtureNamespace | undefined)?.close()
})

describe('router mode in the cluster', () => {
  it('sends marked requests to the real pods while there is no route, and hides its control port', async () => {
    expect(await getWeb('dev')).toMatch(/^real web-/)
    expect(await getWeb()).toMatch(/^real web-/)
    const routerIp = (
      await kubectl(env, ['-n', ns.name, 'get', 'pod', 'router', '-o', 'jsonpath={.status.podIP}'])
    ).trim()
    const fromClient = (port: number) =>
      run(
        env.KUBECTL,
        [
          '--kubeconfig',
          env.KUBECONFIG_HOST,
          '-n',
          ns.name,
          'exec',
          'client',
          '--',
          'timeout',
          '5',
          'wget',
          '-qO-',
          `http://${routerIp}:${port}/healthz`,
        ],
        { timeoutMs: 30_000 },
      )
    // Positive control: the health port (all interfaces) answers from the client pod.
    expect((await fromClient(AGENT_HEALTH_PORT)).stdout).toBe('ok\n')
    for (const port of [AGENT_CONTROL_PORT, AGENT_SSH_PORT]) {
      const probe = await fromClient(port)
      expect(probe.code, `port ${port} from another pod`).not.toBe(0)
      expect(probe.stderr, `port ${port} from another pod`).toMatch(/refused/i)
    }
  })

  it('routes the mark to the laptop over the session SSH connection, the rest to the real pods', async () => {
    const kube = createKube({ kubeconfig: env.KUBECONFIG_HOST, namespace: ns.name })
    const sock = await openPortForward(kube, { pod: 'router', port: AGENT_SSH_PORT, timeoutMs: 30_000 })
    ssh = await openSsh({
      sock,
      username: 'ktx',
      privateKey: key.privateKey,
      readyTimeoutMs: 30_000,
      logger: noopLogger,
    })
    reverse = await startReverseForward({
      ssh,
      remoteHost: '127.0.0.1',
      remotePort: 0,
      localPort: (laptop.address() as AddressInfo).port,
      logger: noopLogger,
    })
    const alice = await openControl()
    await alice.add({
      session: 'alice',
      header: 'Version',
      value: 'dev',
      targets: { '80': `127.0.0.1:${reverse.remotePort}` },
    })
    expect(await getWeb('dev')).toBe('answered by the laptop')
    expect(await getWeb()).toMatch(/^real web-/)
    expect(await getWeb('other')).toMatch(/^real web-/)

    const bobStream = await openPortForward(kube, {
      pod: 'router',
      port: AGENT_CONTROL_PORT,
      timeoutMs: 30_000,
    })
    const bob = openRouterControl(bobStream)
    controls.push(bob)
    await expect(
      bob.add({ session: 'bob', header: 'version', value: 'dev', targets: { '80': '127.0.0.1:1' } }),
    ).rejects.toMatchObject({ code: 'KTX_MESH_MARK_TAKEN', data: { owner: 'alice' } })

    // Alice ends her session: her route is gone by the time close() returns.
    await alice.close()
    expect(await bob.list()).toEqual([])
    expect(await getWeb('dev')).toMatch(/^real web-/)

    // Bob takes the mark, and his port-forward is cut (a killed ktx): the router drops his route
    // once the kubelet closes the pod side, with no restart.
    await bob.add({
      session: 'bob',
      header: 'version',
      value: 'dev',
      targets: { '80': `127.0.0.1:${reverse.remotePort}` },
    })
    expect(await getWeb('dev')).toBe('answered by the laptop')
    const observer = await openControl()
    bobStream.destroy()
    await vi.waitFor(async () => expect(await observer.list()).toEqual([]), {
      timeout: 30_000,
      interval: 200,
    })
    expect(await getWeb('dev')).toMatch(/^real web-/)
    const restarts = await kubectl(env, [
      '-n',
      ns.name,
      'get',
      'pod',
      'router',
      '-o',
      'jsonpath={.status.containerStatuses[0].restartCount}',
    ])
    expect(restarts.trim()).toBe('0')
  })
})
