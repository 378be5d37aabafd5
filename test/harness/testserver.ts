/**
 * Real clients and servers for the suites that route by protocol and header (mesh, preview): the
 * `ktx-testserver` (HTTP/1.1 with keep-alive, a WebSocket echo at /ws, gRPC health + reflection,
 * every answer naming the server) in the cluster or in the laptop namespace, and its clients and
 * grpcurl run from a client pod or from the laptop. All come from `bash test/cluster/tools.sh`,
 * which records them in test/.cluster/env as TESTSERVER, TESTSERVER_IMAGE and GRPCURL.
 */
import { spawn } from 'node:child_process'

import { type ClusterEnv, type RunResult, inLaptop, kubectl, run } from './cluster.js'

/** The env keys tools.sh adds. */
export interface TestTools {
  readonly TESTSERVER: string
  readonly TESTSERVER_IMAGE: string
  readonly GRPCURL: string
}

/** The tools' paths from the env; throws with the command to run when tools.sh never ran. */
export function testTools(env: ClusterEnv): TestTools {
  const values = env as unknown as Partial<Record<keyof TestTools, string>>
  const missing = (['TESTSERVER', 'TESTSERVER_IMAGE', 'GRPCURL'] as const).filter((key) => !values[key])
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} missing from test/.cluster/env: build the e2e tools with 'bash test/cluster/tools.sh'`,
    )
  }
  return values as TestTools
}

/** The ports the server listens on in the image (and by default on the laptop). */
export const TESTSERVER_PORTS = { http: 8080, grpc: 9090 } as const
/** The Service's ports in front of them. */
export const SERVICE_PORTS = { http: 80, grpc: 9090 } as const

/** Where a command runs (a client pod, the laptop namespace), and the tools' paths there. */
export interface Runner {
  readonly where: string
  readonly testserver: string
  readonly grpcurl: string
  run(argv: readonly string[], timeoutMs?: number): Promise<RunResult>
}

const IN_IMAGE = { testserver: '/usr/local/bin/ktx-testserver', grpcurl: '/usr/local/bin/grpcurl' }

/** Runs commands in `pod` (an image with the tools, see {@link deployTestClient}) by kubectl exec. */
export function podRunner(env: ClusterEnv, namespace: string, pod: string): Runner {
  return {
    where: `pod ${namespace}/${pod}`,
    ...IN_IMAGE,
    run: (argv, timeoutMs = 30_000) =>
      run(env.KUBECTL, ['--kubeconfig', env.KUBECONFIG_HOST, '-n', namespace, 'exec', pod, '--', ...argv], {
        timeoutMs,
      }),
  }
}

/** Runs the host's tool binaries inside the laptop network namespace. */
export function laptopRunner(env: ClusterEnv): Runner {
  const tools = testTools(env)
  return {
    where: `laptop namespace ${env.LAPTOP_NETNS}`,
    testserver: tools.TESTSERVER,
    grpcurl: tools.GRPCURL,
    run: ([command, ...args], timeoutMs = 30_000) => {
      if (command === undefined) throw new Error('laptopRunner: empty command')
      return inLaptop(env, command, args, { timeoutMs })
    },
  }
}

/** A ktx-testserver Deployment and its Service, in the cluster. */
export interface TestServerWorkload {
  readonly name: string
  readonly namespace: string
  readonly clusterIP: string
  /** `http://NAME.NAMESPACE/` (port 80 → 8080). */
  readonly httpUrl: string
  /** `ws://NAME.NAMESPACE/ws`. */
  readonly wsUrl: string
  /** `NAME.NAMESPACE:9090`, for grpcurl. */
  readonly grpcAddress: string
}

/**
 * Deploys `ktx-testserver serve --name NAME` with `labels` on its pods, behind a Service `NAME`
 * selecting `serviceSelector` (default: the same labels), ports http 80 → 8080 and grpc 9090.
 * Resolves once the rollout is complete: readiness is the server's own gRPC health check.
 */
export async function deployTestServer(
  env: ClusterEnv,
  namespace: string,
  name: string,
  labels: Readonly<Record<string, string>> = { app: name },
  options: { serviceSelector?: Readonly<Record<string, string>>; replicas?: number } = {},
): Promise<TestServerWorkload> {
  const { TESTSERVER_IMAGE } = testTools(env)
  const json = (value: unknown): string => JSON.stringify(value)
  const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}, labels: ${json(labels)}}
spec:
  replicas: ${options.replicas ?? 1}
  selector: {matchLabels: ${json(labels)}}
  template:
    metadata: {labels: ${json(labels)}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: testserver
        image: ${TESTSERVER_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [${IN_IMAGE.testserver}, serve, --http, ':${TESTSERVER_PORTS.http}', --grpc, ':${TESTSERVER_PORTS.grpc}', --name, ${json(name)}]
        ports: [{name: http, containerPort: ${TESTSERVER_PORTS.http}}, {name: grpc, containerPort: ${TESTSERVER_PORTS.grpc}}]
        readinessProbe: {grpc: {port: ${TESTSERVER_PORTS.grpc}}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: ${json(options.serviceSelector ?? labels)}
  ports:
  - {name: http, port: ${SERVICE_PORTS.http}, targetPort: http}
  - {name: grpc, port: ${SERVICE_PORTS.grpc}, targetPort: grpc, appProtocol: kubernetes.io/h2c}
`
  await kubectl(env, ['apply', '-f', '-'], manifest)
  await kubectl(env, ['-n', namespace, 'rollout', 'status', `deployment/${name}`, '--timeout=120s'])
  const clusterIP = (
    await kubectl(env, ['-n', namespace, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim()
  const host = `${name}.${namespace}`
  return {
    name,
    namespace,
    clusterIP,
    httpUrl: `http://${host}/`,
    wsUrl: `ws://${host}/ws`,
    grpcAddress: `${host}:${SERVICE_PORTS.grpc}`,
  }
}

/**
 * A long-lived pod `name` from the testserver image (ktx-testserver, grpcurl, busybox sh), for
 * calling Services from inside the cluster; resolves with its runner once it is Ready.
 */
export async function deployTestClient(
  env: ClusterEnv,
  namespace: string,
  name = 'testclient',
): Promise<Runner> {
  const { TESTSERVER_IMAGE } = testTools(env)
  const manifest = `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: client, image: ${TESTSERVER_IMAGE}, imagePullPolicy: IfNotPresent, command: [sleep, '86400']}
`
  await kubectl(env, ['apply', '-f', '-'], manifest)
  await kubectl(env, ['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s'])
  return podRunner(env, namespace, name)
}

/** One response of `ktx-testserver http-client`. */
export interface HttpResponse {
  readonly request: number
  readonly status: number
  /** Whether this request went out on the previous one's connection (httptrace GotConn). */
  readonly reused: boolean
  /** The client's local address of that connection. */
  readonly local: string
  /** The answering server's name (its `X-Served-By` header). */
  readonly servedBy: string
  /** `name=…`, `path=…`, `proto=…`, `remote=…`, `host=…`, then `header K: v` lines. */
  readonly body: string
}

export interface HttpClientResult extends RunResult {
  readonly responses: readonly HttpResponse[]
}

/** `count` GETs of `url` on one keep-alive connection from `runner`, with `headers` ('K: v'). */
export async function httpClient(
  runner: Runner,
  url: string,
  headers: readonly string[] = [],
  options: { count?: number; timeoutSeconds?: number; alternate?: boolean } = {},
): Promise<HttpClientResult> {
  const timeout = options.timeoutSeconds ?? 5
  const argv = [runner.testserver, 'http-client', '--url', url, '--count', String(options.count ?? 3)]
  argv.push('--timeout', `${timeout}s`, ...headers.flatMap((header) => ['--header', header]))
  // Headers on requests 1, 3, … only: marked and unmarked requests share one keep-alive connection.
  if (options.alternate) argv.push('--alternate')
  const result = await runner.run(argv, (timeout * (options.count ?? 3) + 20) * 1000)
  const responses = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as HttpResponse)
  return { ...result, responses }
}

export interface WsClientResult extends RunResult {
  /** Each echo, in order: `SERVERNAME: message`. */
  readonly echoes: readonly string[]
}

/** Opens a WebSocket to `url` from `runner` (handshake `headers`), sends each message, reads each echo. */
export async function wsClient(
  runner: Runner,
  url: string,
  headers: readonly string[],
  messages: readonly string[],
  timeoutSeconds = 5,
): Promise<WsClientResult> {
  const argv = [runner.testserver, 'ws-client', '--url', url, '--timeout', `${timeoutSeconds}s`]
  argv.push(...headers.flatMap((header) => ['--header', header]))
  argv.push(...messages.flatMap((message) => ['--send', message]))
  const result = await runner.run(argv, (timeoutSeconds * (messages.length + 1) + 20) * 1000)
  return { ...result, echoes: result.stdout.split('\n').filter((line) => line !== '') }
}

/** grpcurl from `runner` with `args` as given (add `-plaintext`, `-v`, `-H` yourself). */
export function grpcurl(runner: Runner, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return runner.run([runner.grpcurl, ...args], timeoutMs)
}

export interface GrpcHealth extends RunResult {
  /** `SERVING`, … from the response; undefined when the call failed. */
  readonly status: string | undefined
  /** The `x-served-by` response header grpcurl -v printed; undefined when none came. */
  readonly servedBy: string | undefined
}

/**
 * `grpc.health.v1.Health/Check` against `address` (plaintext, `headers` as request metadata).
 * `service` "" asks for the server as a whole; a server's own name is SERVING only at that server.
 */
export async function grpcHealth(
  runner: Runner,
  address: string,
  headers: readonly string[] = [],
  options: { service?: string; connectTimeoutSeconds?: number } = {},
): Promise<GrpcHealth> {
  const args = ['-plaintext', '-v', '-connect-timeout', String(options.connectTimeoutSeconds ?? 5)]
  args.push(...headers.flatMap((header) => ['-H', header]))
  args.push('-d', JSON.stringify({ service: options.service ?? '' }), address, 'grpc.health.v1.Health/Check')
  const result = await grpcurl(runner, args)
  return {
    ...result,
    status: /"status":\s*"(\w+)"/.exec(result.stdout)?.[1],
    servedBy: /^x-served-by: (.*)$/m.exec(result.stdout)?.[1],
  }
}

/** A ktx-testserver running in the laptop namespace, as the developer's local process. */
export interface LaptopTestServer {
  readonly name: string
  readonly httpPort: number
  readonly grpcPort: number
  close(): Promise<void>
}

/**
 * Starts `ktx-testserver serve` in the laptop namespace on the given ports (0: a free one, as the
 * default; other suites share the namespace) and resolves once it printed that both listen.
 */
export async function startLaptopTestServer(
  env: ClusterEnv,
  options: { name?: string; http?: number; grpc?: number } = {},
): Promise<LaptopTestServer> {
  const { TESTSERVER } = testTools(env)
  const name = options.name ?? 'laptop'
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      env.LAPTOP_NETNS,
      TESTSERVER,
      'serve',
      '--name',
      name,
      '--http',
      `:${options.http ?? 0}`,
      '--grpc',
      `:${options.grpc ?? 0}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const ready = /^listening http=(\d+) grpc=(\d+) /m.exec(stdout)
      if (ready) resolve({ http: Number(ready[1]), grpc: Number(ready[2]) })
    })
    child.once('exit', (code) =>
      reject(new Error(`ktx-testserver in the laptop exited (${String(code)}) before listening: ${stderr}`)),
    )
  })
  return {
    name,
    httpPort: ports.http,
    grpcPort: ports.grpc,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
