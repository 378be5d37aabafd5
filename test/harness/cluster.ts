/**
 * The e2e suites' view of the test cluster: its environment file, kubectl, commands run inside the
 * laptop network namespace, and fixture workloads in throw-away namespaces.
 *
 * Everything here reads `test/.cluster/env`, written by `npm run cluster:up`; nothing else knows
 * the cluster's addresses.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ClusterEnv {
  readonly KUBECONFIG_HOST: string
  readonly KUBECONFIG_LAPTOP: string
  readonly LAPTOP_NETNS: string
  readonly LAPTOP_UPSTREAM_DNS: string
  readonly CLUSTER_API_SERVER: string
  readonly CLUSTER_NODE_IP: string
  readonly CLUSTER_POD_CIDR: string
  readonly CLUSTER_SERVICE_CIDR: string
  readonly CLUSTER_DNS_IP: string
  readonly CLUSTER_ROOT: string
  readonly KUBECTL: string
  readonly TUN2SOCKS: string
  readonly BUSYBOX_IMAGE: string
  readonly SHADOW_IMAGE: string
}

export const envFile = join(dirname(fileURLToPath(import.meta.url)), '..', '.cluster', 'env')

/** Reads `test/.cluster/env`; throws with the command to run when the cluster was never brought up. */
export function loadClusterEnv(): ClusterEnv {
  let text: string
  try {
    text = readFileSync(envFile, 'utf8')
  } catch {
    throw new Error(`${envFile} is missing: bring the test cluster up with 'npm run cluster:up' first`)
  }
  const entries = text
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const)
  return Object.fromEntries(entries) as unknown as ClusterEnv
}

export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to completion and reports its exit code instead of throwing on failure. */
export function run(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 60_000, env: options.env ?? process.env, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 124) : 0
        resolve({ code, stdout, stderr })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** Like {@link run}, but throws with the command's stderr when it fails. */
export async function runOk(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(command, args, options)
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`)
  }
  return result.stdout
}

/** Runs a command inside the laptop network namespace, where only the API server is reachable. */
export function inLaptop(
  env: ClusterEnv,
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run('ip', ['netns', 'exec', env.LAPTOP_NETNS, command, ...args], options)
}

/** kubectl with the host's admin kubeconfig. */
export function kubectl(env: ClusterEnv, args: readonly string[], input?: string): Promise<string> {
  return runOk(
    env.KUBECTL,
    ['--kubeconfig', env.KUBECONFIG_HOST, ...args],
    input === undefined ? {} : { input },
  )
}

/** A namespace made for one test and deleted (with everything in it) by `close()`. */
export interface FixtureNamespace extends AsyncDisposable {
  readonly name: string
  close(): Promise<void>
}

export async function createFixtureNamespace(env: ClusterEnv, prefix: string): Promise<FixtureNamespace> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`
  await kubectl(env, ['create', 'namespace', name])
  // Pods are refused until the namespace's default service account exists.
  await kubectl(env, [
    '-n',
    name,
    'wait',
    // `create`, not a jsonpath: that one fails at once while the object does not exist yet.
    '--for=create',
    'serviceaccount/default',
    '--timeout=60s',
  ])
  const close = async (): Promise<void> => {
    await kubectl(env, ['delete', 'namespace', name, '--wait=true', '--timeout=120s'])
  }
  return { name, close, [Symbol.asyncDispose]: close }
}

export interface WebWorkload {
  readonly name: string
  readonly namespace: string
  readonly clusterIP: string
  readonly podIPs: readonly string[]
  /** The body every pod of the workload serves on `/`. */
  readonly body: string
  readonly port: number
}

/**
 * A busybox httpd Deployment behind a ClusterIP Service (port 80 → 8080), each pod serving `body`.
 * Returns once the rollout is complete and the Service has endpoints.
 */
export async function deployWeb(
  env: ClusterEnv,
  namespace: string,
  name: string,
  options: { replicas?: number; body?: string; headless?: boolean; nodePort?: boolean } = {},
): Promise<WebWorkload> {
  const body = options.body ?? `hello from ${name}.${namespace}`
  const replicas = options.replicas ?? 1
  const serviceType = options.nodePort ? 'NodePort' : 'ClusterIP'
  const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: ${env.BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /srv && echo "$BODY" > /srv/index.html && exec httpd -f -p 8080 -h /srv']
        env: [{name: BODY, value: ${JSON.stringify(body)}}]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  type: ${serviceType}
  ${options.headless ? 'clusterIP: None' : ''}
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: http}]
`
  await kubectl(env, ['apply', '-f', '-'], manifest)
  await kubectl(env, ['-n', namespace, 'rollout', 'status', `deployment/${name}`, '--timeout=120s'])
  const clusterIP = (
    await kubectl(env, ['-n', namespace, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim()
  const podIPs = (
    await kubectl(env, [
      '-n',
      namespace,
      'get',
      'pods',
      '-l',
      `app=${name}`,
      '-o',
      'jsonpath={.items[*].status.podIP}',
    ])
  )
    .trim()
    .split(/\s+/)
    .filter(Boolean)
  return { name, namespace, clusterIP, podIPs, body, port: 80 }
}

/** A node port of a NodePort Service. */
export async function nodePortOf(env: ClusterEnv, namespace: string, service: string): Promise<number> {
  return Number(
    await kubectl(env, [
      '-n',
      namespace,
      'get',
      'service',
      service,
      '-o',
      'jsonpath={.spec.ports[0].nodePort}',
    ]),
  )
}

/** `curl` from inside the laptop namespace with a short deadline, so a blocked address fails fast. */
export function curlFromLaptop(
  env: ClusterEnv,
  url: string,
  extraArgs: readonly string[] = [],
): Promise<RunResult> {
  return inLaptop(env, 'curl', ['-sS', '--max-time', '3', ...extraArgs, url], { timeoutMs: 10_000 })
}

/** A token kubeconfig for a new ServiceAccount `name` in `namespace`, bound to a Role with `rules`. */
export async function tokenKubeconfig(
  env: ClusterEnv,
  namespace: string,
  name: string,
  rules: string,
): Promise<string> {
  const manifest = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: ${name}, namespace: ${namespace}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}, namespace: ${namespace}}
rules:
${rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}, namespace: ${namespace}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}}
subjects: [{kind: ServiceAccount, name: ${name}, namespace: ${namespace}}]
`
  await kubectl(env, ['apply', '-f', '-'], manifest)
  const token = (await kubectl(env, ['-n', namespace, 'create', 'token', name, '--duration=10m'])).trim()
  const ca = (
    await kubectl(env, [
      'config',
      'view',
      '--raw',
      '--minify',
      '-o',
      'jsonpath={.clusters[0].cluster.certificate-authority-data}',
    ])
  ).trim()
  const file = join(mkdtempSync(join(tmpdir(), `ktx-${name}-`)), 'kubeconfig')
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: ${name}
clusters: [{name: test, cluster: {server: "${env.CLUSTER_API_SERVER}", certificate-authority-data: "${ca}"}}]
users: [{name: ${name}, user: {token: "${token}"}}]
contexts: [{name: ${name}, context: {cluster: test, user: ${name}, namespace: ${namespace}}}]
`,
  )
  return file
}
