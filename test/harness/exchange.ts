/**
 * What the exchange suites share: a two-port web workload with a client pod in the cluster, the
 * developer's servers in the laptop namespace, `ktx exchange` run from there, and exact snapshots
 * of the Service and Deployment specs to compare before and after.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { expect } from 'vitest'

import { type ClusterEnv, type RunResult, kubectl, run } from './cluster.js'
import { KTX_BIN, type RunningVerb, spawnInLaptop, startKtx } from './ktx.js'

const LAPTOP_SERVERS = fileURLToPath(new URL('../e2e/fixtures/laptop-servers.mjs', import.meta.url))

/** The Service `web`: port 80 → named target port `http` (8080), port 9000 → 90 (a port below 1024). */
export const WEB_PORTS = { http: 8080, admin: 90 } as const

/** The manifest of the Service alone, so a test can re-apply it as a CD pipeline would. */
export function webServiceManifest(namespace: string): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${namespace}}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: admin, port: 9000, targetPort: ${WEB_PORTS.admin}}
`
}

/** The manifest of the Deployment `web` alone (2 replicas), so a test can re-apply it. */
export function webDeploymentManifest(env: ClusterEnv, namespace: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${namespace}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: ${env.BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /srv && echo "real $HOSTNAME" > /srv/index.html && (httpd -f -p ${WEB_PORTS.admin} -h /srv &) && exec httpd -f -p ${WEB_PORTS.http} -h /srv']
        ports: [{name: http, containerPort: ${WEB_PORTS.http}}]
        readinessProbe: {tcpSocket: {port: ${WEB_PORTS.http}}, periodSeconds: 1}
`
}

/**
 * Deployment `web` (2 busybox pods answering "real <pod name>" on 8080 and 90), its Service, and
 * a `client` pod (busybox) and `nodeclient` pod (the shadow image, for node scripts) to call it
 * from inside the cluster. Returns once everything is Ready.
 */
export async function deployExchangeFixture(env: ClusterEnv, namespace: string): Promise<void> {
  const manifest = `${webDeploymentManifest(env, namespace)}
---
${webServiceManifest(namespace)}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: client, image: ${env.BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [sleep, '86400']}
---
apiVersion: v1
kind: Pod
metadata: {name: nodeclient, namespace: ${namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: node
    image: ${env.SHADOW_IMAGE}
    imagePullPolicy: IfNotPresent
    command: [/usr/local/bin/node, -e, 'setInterval(() => {}, 1 << 30)']
`
  await kubectl(env, ['apply', '-f', '-'], manifest)
  await kubectl(env, ['-n', namespace, 'rollout', 'status', 'deployment/web', '--timeout=120s'])
  await kubectl(env, [
    '-n',
    namespace,
    'wait',
    '--for=condition=Ready',
    'pod/client',
    'pod/nodeclient',
    '--timeout=120s',
  ])
}

/** The laptop namespace's own address (`LAPTOP_IP` in test/.cluster/env). */
export function laptopIp(env: ClusterEnv): string {
  const ip = (env as unknown as Record<string, string | undefined>).LAPTOP_IP
  if (ip === undefined) throw new Error('LAPTOP_IP is missing from test/.cluster/env')
  return ip
}

/** One HTTP GET from the `client` pod (busybox wget, bounded by `timeout`). */
export function getFromCluster(env: ClusterEnv, namespace: string, url: string): Promise<RunResult> {
  return run(
    env.KUBECTL,
    [
      '--kubeconfig',
      env.KUBECONFIG_HOST,
      '-n',
      namespace,
      'exec',
      'client',
      '--',
      'timeout',
      '10',
      'wget',
      '-qO-',
      url,
    ],
    { timeoutMs: 30_000 },
  )
}

/** Runs a node script in the `nodeclient` pod; resolves with its output. */
export function nodeInCluster(
  env: ClusterEnv,
  namespace: string,
  script: string,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return run(
    env.KUBECTL,
    [
      '--kubeconfig',
      env.KUBECONFIG_HOST,
      '-n',
      namespace,
      'exec',
      'nodeclient',
      '--',
      '/usr/local/bin/node',
      '-e',
      script,
    ],
    { timeoutMs },
  )
}

/** `.spec` of an object exactly as the API server returns it (compact JSON), for byte-for-byte checks. */
export async function specOf(
  env: ClusterEnv,
  namespace: string,
  kind: string,
  name: string,
): Promise<string> {
  return kubectl(env, ['-n', namespace, 'get', kind, name, '-o', 'jsonpath={.spec}'])
}

/** The object's annotations (empty object when it has none). */
export async function annotationsOf(
  env: ClusterEnv,
  namespace: string,
  kind: string,
  name: string,
): Promise<Record<string, string>> {
  const out = await kubectl(env, [
    '-n',
    namespace,
    'get',
    kind,
    name,
    '-o',
    'jsonpath={.metadata.annotations}',
  ])
  return out.trim() === '' ? {} : (JSON.parse(out) as Record<string, string>)
}

/** A running set of laptop servers. */
export interface LaptopServers {
  readonly child: ChildProcess
  /** The port of each server, in the order the bodies were given. */
  readonly ports: readonly number[]
  close(): Promise<void>
}

/**
 * Starts the developer's HTTP servers in the laptop namespace, one per body, each on a free port
 * (or on `port` when given; other suites may run in the same namespace at the same time), and
 * resolves once all listen.
 */
export async function startLaptopServers(
  env: ClusterEnv,
  servers: readonly (string | { readonly body: string; readonly port: number })[],
): Promise<LaptopServers> {
  const args = servers.map((s) => (typeof s === 'string' ? `0=${s}` : `${s.port}=${s.body}`))
  const child = spawnInLaptop(env, LAPTOP_SERVERS, args)
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const lines = [...stdout.matchAll(/^listening (\d+) (\d+)$/gm)]
      if (lines.length < args.length) return
      const byIndex: number[] = []
      for (const [, index, port] of lines) byIndex[Number(index)] = Number(port)
      resolve(byIndex)
    })
    child.once('exit', (code) => reject(new Error(`laptop servers exited (${String(code)}): ${stderr}`)))
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    ports,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/** A port that is free in the laptop namespace right now (bound once, then released). */
export async function freeLaptopPort(env: ClusterEnv): Promise<number> {
  const probe = await startLaptopServers(env, ['probe'])
  await probe.close()
  return probe.ports[0]!
}

/** A `ktx exchange` running in the laptop namespace. */
export type RunningExchange = RunningVerb

/** Starts `ktx exchange <target> …` in the laptop namespace with the laptop kubeconfig. */
export function startKtxExchange(env: ClusterEnv, args: readonly string[]): RunningExchange {
  return startKtx(env, ['exchange', ...args], 'Press Ctrl+C to give the Service back.')
}

/**
 * The exchange suites' negative control: from a pod, the laptop's server on `port` does not answer
 * (so an answer from it later came through ktx).
 */
export async function expectLaptopUnreachableFromCluster(
  env: ClusterEnv,
  namespace: string,
  port: number,
): Promise<void> {
  const direct = await getFromCluster(env, namespace, `http://${laptopIp(env)}:${String(port)}/`)
  expect(direct.code).not.toBe(0)
  expect(direct.stdout).toBe('')
}

/** Runs another ktx command (`recover`, `clean`, …) in the laptop namespace to completion. */
export function runKtx(env: ClusterEnv, args: readonly string[], timeoutMs = 180_000): Promise<RunResult> {
  return run('ip', ['netns', 'exec', env.LAPTOP_NETNS, process.execPath, KTX_BIN, ...args], {
    timeoutMs,
    env: { ...process.env, KUBECONFIG: env.KUBECONFIG_LAPTOP },
  })
}

/** The rights the exchange READMEs document, as Role rules. */
export const EXCHANGE_RULES = `- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create, get, list, update, delete]
- apiGroups: ['']
  resources: [pods]
  verbs: [create, get, list, watch, patch, delete]
- apiGroups: ['']
  resources: [pods/portforward]
  verbs: [create, get]
- apiGroups: ['']
  resources: [services]
  verbs: [get, list, watch, patch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch, patch]`
