/**
 * The mesh and preview suites' tools, proven against the real cluster before anything routes
 * through them: two ktx-testservers (`alpha`, `beta`) behind their own Services, a client pod, and a
 * testserver in the laptop namespace. From the pod, HTTP/1.1 keeps one connection for several
 * requests (and says so), the WebSocket echoes, grpcurl's health check answers, and every answer
 * names the server that gave it. The negative control: the laptop reaches none of it, and the
 * pod cannot reach the laptop's server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  type ClusterEnv,
  type FixtureNamespace,
  createFixtureNamespace,
  kubectl,
  loadClusterEnv,
} from '../harness/cluster.js'
import { laptopIp } from '../harness/exchange.js'
import { ktxLeftovers } from '../harness/ktx.js'
import {
  type LaptopTestServer,
  type Runner,
  type TestServerWorkload,
  SERVICE_PORTS,
  deployTestClient,
  deployTestServer,
  grpcHealth,
  httpClient,
  laptopRunner,
  startLaptopTestServer,
  wsClient,
} from '../harness/testserver.js'

const env: ClusterEnv = loadClusterEnv()
let ns: FixtureNamespace
let alpha: TestServerWorkload
let beta: TestServerWorkload
let pod: Runner
let podIP: string
const laptop = laptopRunner(env)

beforeAll(async () => {
  ns = await createFixtureNamespace(env, 'testserver')
  ;[alpha, beta, pod] = await Promise.all([
    deployTestServer(env, ns.name, 'alpha'),
    deployTestServer(env, ns.name, 'beta'),
    deployTestClient(env, ns.name),
  ])
  podIP = (
    await kubectl(env, [
      '-n',
      ns.name,
      'get',
      'pods',
      '-l',
      'app=alpha',
      '-o',
      'jsonpath={.items[0].status.podIP}',
    ])
  ).trim()
})

afterAll(async () => {
  await (ns as FixtureNamespace | undefined)?.close()
})

describe('negative control: the laptop namespace without ktx', () => {
  it('reaches neither the Service nor the pod over HTTP, WebSocket or gRPC', async () => {
    for (const host of [alpha.clusterIP, podIP]) {
      const port = host === podIP ? 8080 : SERVICE_PORTS.http
      const http = await httpClient(laptop, `http://${host}:${port}/`, [], { count: 1, timeoutSeconds: 2 })
      expect(http.code, `${host} http`).not.toBe(0)
      expect(http.responses).toEqual([])
      expect(http.stderr).toMatch(/timeout|deadline|unreachable|refused/i)

      const ws = await wsClient(laptop, `ws://${host}:${port}/ws`, [], ['hello'], 2)
      expect(ws.code, `${host} ws`).not.toBe(0)
      expect(ws.echoes).toEqual([])

      const grpc = await grpcHealth(laptop, `${host}:9090`, [], { connectTimeoutSeconds: 2 })
      expect(grpc.code, `${host} grpc`).not.toBe(0)
      expect(grpc.status).toBeUndefined()
    }
  })
})

describe('from a client pod in the cluster', () => {
  it('HTTP/1.1: three requests on one kept-alive connection, each answered by the named server', async () => {
    const result = await httpClient(pod, alpha.httpUrl, ['x-version: v2', 'x-trace: abc'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.responses.map((r) => [r.status, r.servedBy, r.reused])).toEqual([
      [200, 'alpha', false],
      [200, 'alpha', true],
      [200, 'alpha', true],
    ])
    // The client kept one local address, and the server saw one peer: the same TCP connection.
    expect(new Set(result.responses.map((r) => r.local)).size).toBe(1)
    const peers = result.responses.map((r) => /^remote=(.*)$/m.exec(r.body)?.[1])
    expect(new Set(peers).size).toBe(1)
    const body = result.responses[0]!.body
    expect(body).toMatch(/^name=alpha$/m)
    expect(body).toMatch(/^proto=HTTP\/1\.1$/m)
    expect(body).toMatch(/^header X-Version: v2$/m)
    expect(body).toMatch(/^header X-Trace: abc$/m)

    const other = await httpClient(pod, beta.httpUrl, [], { count: 1 })
    expect(other.responses.map((r) => r.servedBy)).toEqual(['beta'])
  })

  it('WebSocket: every message comes back prefixed with the server that echoed it', async () => {
    const result = await wsClient(pod, alpha.wsUrl, ['x-version: v2'], ['one', 'two'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.echoes).toEqual(['alpha: one', 'alpha: two'])
    const other = await wsClient(pod, beta.wsUrl, [], ['three'])
    expect(other.echoes).toEqual(['beta: three'])
  })

  it('gRPC: grpcurl health check is SERVING, with x-served-by naming the server; its own name is known only there', async () => {
    const whole = await grpcHealth(pod, alpha.grpcAddress, ['x-version: v2'])
    expect(whole.code, whole.stderr).toBe(0)
    expect([whole.status, whole.servedBy]).toEqual(['SERVING', 'alpha'])

    const own = await grpcHealth(pod, beta.grpcAddress, [], { service: 'beta' })
    expect([own.code, own.status, own.servedBy]).toEqual([0, 'SERVING', 'beta'])
    const foreign = await grpcHealth(pod, beta.grpcAddress, [], { service: 'alpha' })
    expect(foreign.code).not.toBe(0)
    expect(foreign.stderr).toMatch(/NotFound/)
  })
})

describe('a testserver in the laptop namespace', () => {
  let server: LaptopTestServer | undefined

  afterAll(async () => {
    await server?.close()
  })

  it('answers HTTP, WebSocket and gRPC locally, is unreachable from the pod, and is gone after close()', async () => {
    server = await startLaptopTestServer(env, { name: 'laptop' })
    const local = `127.0.0.1:${server.httpPort}`
    const http = await httpClient(laptop, `http://${local}/`, ['x-version: v2'], { count: 2 })
    expect(http.responses.map((r) => [r.servedBy, r.reused])).toEqual([
      ['laptop', false],
      ['laptop', true],
    ])
    expect((await wsClient(laptop, `ws://${local}/ws`, [], ['hi'])).echoes).toEqual(['laptop: hi'])
    const grpc = await grpcHealth(laptop, `127.0.0.1:${server.grpcPort}`)
    expect([grpc.status, grpc.servedBy]).toEqual(['SERVING', 'laptop'])

    const fromPod = await httpClient(pod, `http://${laptopIp(env)}:${server.httpPort}/`, [], {
      count: 1,
      timeoutSeconds: 2,
    })
    expect(fromPod.code).not.toBe(0)
    expect(fromPod.responses).toEqual([])

    await server.close()
    const after = await httpClient(laptop, `http://${local}/`, [], { count: 1, timeoutSeconds: 2 })
    expect(after.code).not.toBe(0)
    expect(after.stderr).toMatch(/refused/)
  })
})

describe('afterwards', () => {
  it('leaves no ktx objects in the namespace', async () => {
    expect(await ktxLeftovers(env, ns.name)).toEqual([])
  })
})
