// The bench's cluster side: the test cluster's env file, kubectl, and the fixture namespace
// (target pod, a second "normal" pod, a client pod), created and waited for by the bench itself.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { rssMB, run, start, stop, waitForOutput } from './proc.mjs'

/** Bytes of the file the bulk scenarios download. */
export const BULK_BYTES = 128 * 1024 * 1024

export function loadEnv() {
  const file = fileURLToPath(new URL('../../test/.cluster/env', import.meta.url))
  const env = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line)
    if (match) env[match[1]] = match[2]
  }
  for (const key of [
    'KUBECTL',
    'KUBECONFIG_LAPTOP',
    'SHADOW_IMAGE',
    'TESTSERVER_IMAGE',
    'BUSYBOX_IMAGE',
    'TESTSERVER',
    'TUN2SOCKS',
  ])
    if (!env[key]) throw new Error(`${file} has no ${key}; is the test cluster up (npm run cluster:up)?`)
  return env
}

const DELAY_PROXY = fileURLToPath(new URL('./delay-proxy.mjs', import.meta.url))

/**
 * `--delay-ms`: starts lib/delay-proxy.mjs to the API server and writes a copy of the laptop's
 * kubeconfig that goes through it; `close()` stops it (after the namespace is gone: the clean-up
 * crosses it too).
 */
export async function delayedKubeconfig(env, delayMs) {
  const server = `server: ${env.CLUSTER_API_SERVER}`
  const text = readFileSync(env.KUBECONFIG_LAPTOP, 'utf8')
  if (!text.includes(server)) throw new Error(`${env.KUBECONFIG_LAPTOP} has no "${server}"`)
  const target = env.CLUSTER_API_SERVER.replace(/^https:\/\//, '')
  const proc = start(process.execPath, [DELAY_PROXY, target, String(delayMs)], {
    lasting: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const [, port] = await waitForOutput(proc, /^listening (\d+)$/m, 10_000, 'delay-proxy')
  const dir = mkdtempSync(join(tmpdir(), 'ktx-bench-kubeconfig-'))
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, text.replaceAll(server, `server: https://127.0.0.1:${port}`))
  return {
    kubeconfig,
    async close() {
      await stop(proc, 'SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** `options`: `input` for its stdin; `cleanup: true` runs it even after an interrupt (lib/proc.mjs). */
export function kubectl(env, args, input, options = {}) {
  return run(env.KUBECTL, ['--kubeconfig', env.KUBECONFIG_LAPTOP, ...args], {
    ...options,
    ...(input === undefined ? {} : { input }),
  })
}

/**
 * `web`: the target pod (ktx-testserver on 8080 for requests; busybox httpd on 8081 serving a
 * BULK_BYTES file from memory for throughput), behind Service `web`; `base`: a second testserver
 * behind Service `base`, the exchange scenario's normal pod; `client`: a pod to send requests from.
 */
function manifest(env) {
  const mb = BULK_BYTES / 1024 / 1024
  const testserver = (name) => ({
    name: 'http',
    image: env.TESTSERVER_IMAGE,
    command: ['/usr/local/bin/ktx-testserver', 'serve', '--http', ':8080', '--grpc', ':9090', '--name', name],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { grpc: { port: 9090 }, periodSeconds: 1 },
  })
  const pod = (name, containers, extra = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: { terminationGracePeriodSeconds: 0, containers, ...extra },
  })
  const service = (name) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  })
  const bulk = {
    name: 'bulk',
    image: env.BUSYBOX_IMAGE,
    command: [
      'sh',
      '-c',
      `dd if=/dev/urandom of=/srv/big.bin bs=1M count=${mb} 2>/dev/null && touch /srv/ready && exec httpd -f -p 8081 -h /srv`,
    ],
    volumeMounts: [{ name: 'srv', mountPath: '/srv' }],
    readinessProbe: { exec: { command: ['test', '-f', '/srv/ready'] }, periodSeconds: 1 },
  }
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      pod('web', [testserver('web'), bulk], { volumes: [{ name: 'srv', emptyDir: { medium: 'Memory' } }] }),
      pod('base', [testserver('base')]),
      pod('client', [{ name: 'client', image: env.TESTSERVER_IMAGE, command: ['sleep', '86400'] }]),
      service('web'),
      service('base'),
    ],
  }
}

/** Creates the bench's namespace and fixtures and waits until they are Ready. */
export async function createFixtures(env) {
  const namespace = `ktx-bench-${randomBytes(3).toString('hex')}`
  const fixtures = {
    namespace,
    async close() {
      const args = ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=true', '--timeout=120s']
      await kubectl(env, args, undefined, { cleanup: true })
    },
  }
  try {
    // Inside the try: a create interrupted half-way may still have made the namespace.
    await kubectl(env, ['create', 'namespace', namespace])
    await kubectl(env, ['-n', namespace, 'apply', '-f', '-'], JSON.stringify(manifest(env)))
    await kubectl(env, [
      '-n',
      namespace,
      'wait',
      '--for=condition=Ready',
      'pod/web',
      'pod/base',
      'pod/client',
      '--timeout=180s',
    ])
    const ip = async (pod) =>
      (await kubectl(env, ['-n', namespace, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])).trim()
    return { ...fixtures, webIP: await ip('web'), baseIP: await ip('base') }
  } catch (error) {
    await fixtures.close().catch(() => undefined)
    throw error
  }
}

/** ktx-managed objects left in the namespace, as `kind/name`. */
export async function ktxLeftovers(env, namespace) {
  const out = await kubectl(env, [
    '-n',
    namespace,
    'get',
    'pods,services,leases,configmaps,secrets',
    '-l',
    'app.kubernetes.io/managed-by=ktx',
    '-o',
    'name',
  ])
  return out.split('\n').filter(Boolean)
}

/**
 * The pids of a pod's processes (agent and pause), found by their cgroup in /proc.
 * (/sys/fs/cgroup is not visible here: `ip netns exec` mounts a fresh /sys.)
 */
export function podPids(uid) {
  const marks = [`pod${uid}`, `pod${uid.replaceAll('-', '_')}`]
  const pids = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (marks.some((m) => readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(m)))
        pids.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  if (pids.length === 0) throw new Error(`no process of pod ${uid} found in /proc`)
  return pids
}

export async function podUid(env, namespace, pod) {
  return (await kubectl(env, ['-n', namespace, 'get', 'pod', pod, '-o', 'jsonpath={.metadata.uid}'])).trim()
}

/** Resident memory of a pod's processes, in MB. */
export function podRssMB(uid) {
  const pids = podPids(uid)
  return { rssMB: pids.reduce((sum, pid) => sum + (rssMB(pid) ?? 0), 0), processes: pids.length }
}
