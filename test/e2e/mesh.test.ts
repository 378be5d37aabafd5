/**
 * `ktx mesh` on the real cluster, every client in a cluster pod: a Service `web` (ktx-testserver
 * "web", HTTP 80 → 8080, gRPC 9090) and two developers' processes in the laptop namespace
 * (testservers "alice" and "bob"). Requests carrying a developer's mark reach that developer's
 * process, every other request reaches the real pods: over HTTP/1.1 (marked and unmarked requests
 * on one keep-alive connection), a WebSocket and gRPC (grpcurl). Two meshes at once, the first
 * leaving while the second keeps working, the last one out leaving the Service exactly as it was;
 * `kill -9` then `ktx clean` with another developer still meshing.
 */
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { kubectl } from '../harness/cluster.js'
import { runKtx } from '../harness/exchange.js'
import { type RunningVerb, startKtx, startLibraryScript } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'
import {
  type LaptopTestServer,
  type Runner,
  type TestServerWorkload,
  deployTestClient,
  deployTestServer,
  grpcHealth,
  httpClient,
  startLaptopTestServer,
  wsClient,
} from '../harness/testserver.js'

const libraryScript = fileURLToPath(new URL('./fixtures/library-mesh.mjs', import.meta.url))
let web: TestServerWorkload
const suite = suiteFixture({
  namespace: 'mesh',
  shadowImage: true,
  negativeControl: { unreachable: () => [`http://${web.clusterIP}/`] },
})
const { env } = suite
let client: Runner
let alice: LaptopTestServer
let bob: LaptopTestServer
let original: string
const running: RunningVerb[] = []

beforeAll(async () => {
  ;[web, client, alice, bob] = await Promise.all([
    deployTestServer(env, suite.namespace, 'web'),
    deployTestClient(env, suite.namespace),
    startLaptopTestServer(env, { name: 'alice' }),
    startLaptopTestServer(env, { name: 'bob' }),
  ])
  original = await serviceAsWritten()
}, 240_000)

afterAll(async () => {
  for (const session of running) session.child.kill('SIGKILL')
  await Promise.all([alice.close(), bob.close()])
})

// The Service as the user wrote it: everything but what the API server moves on every write.
async function serviceAsWritten(): Promise<string> {
  const json = JSON.parse(
    await kubectl(env, ['-n', suite.namespace, 'get', 'service', 'web', '-o', 'json']),
  ) as { metadata: Record<string, unknown>; spec: unknown }
  const { resourceVersion: _v, managedFields: _m, generation: _g, ...metadata } = json.metadata
  return JSON.stringify({ metadata, spec: json.spec }, null, 2)
}

function startMesh(developer: LaptopTestServer, mark: string, extra: readonly string[] = []): RunningVerb {
  const session = startKtx(
    env,
    [
      'mesh',
      'web',
      '-n',
      suite.namespace,
      '-i',
      env.SHADOW_IMAGE,
      '--expose',
      `${String(developer.httpPort)}:8080,${String(developer.grpcPort)}:9090`,
      '--versionMark',
      mark,
      ...extra,
    ],
    'Press Ctrl+C to stop',
  )
  running.push(session)
  return session
}

async function stop(session: RunningVerb): Promise<void> {
  session.child.kill('SIGINT')
  const result = await session.exited
  expect(result.code, result.stderr).toBe(0)
}

async function servedBy(headers: readonly string[]): Promise<string[]> {
  const result = await httpClient(client, web.httpUrl, headers, { count: 1 })
  expect(result.code, result.stderr).toBe(0)
  // A router error has no X-Served-By: say what came instead.
  return result.responses.map((r) => r.servedBy || `HTTP ${String(r.status)}: ${r.body.slice(0, 120)}`)
}

async function ktxObjects(): Promise<string[]> {
  return (await suite.leftovers()).sort()
}

describe('one developer', () => {
  it('gets the marked requests over HTTP/1.1 keep-alive, WebSocket and gRPC; the rest reach the pods', async () => {
    const session = startMesh(alice, 'alice')
    const ready = await session.ready
    expect(ready).toContain('Version mark: version: alice')
    expect(ready).toContain(`curl -H 'version: alice' http://web.${suite.namespace}/`)

    // Marked, unmarked, marked, unmarked on one connection: routed per request, not per connection.
    const mixed = await httpClient(client, web.httpUrl, ['VERSION: alice'], { count: 4, alternate: true })
    expect(mixed.code, mixed.stderr).toBe(0)
    expect(mixed.responses.map((r) => r.servedBy)).toEqual(['alice', 'web', 'alice', 'web'])
    expect(mixed.responses.map((r) => r.reused)).toEqual([false, true, true, true])
    expect(await servedBy(['version: someone-else'])).toEqual(['web'])

    const marked = await wsClient(client, web.wsUrl, ['version: alice'], ['one', 'two'])
    expect(marked.echoes).toEqual(['alice: one', 'alice: two'])
    const plain = await wsClient(client, web.wsUrl, [], ['one'])
    expect(plain.echoes).toEqual(['web: one'])

    const grpcMarked = await grpcHealth(client, web.grpcAddress, ['version: alice'])
    expect([grpcMarked.status, grpcMarked.servedBy], grpcMarked.stderr).toEqual(['SERVING', 'alice'])
    const grpcPlain = await grpcHealth(client, web.grpcAddress)
    expect([grpcPlain.status, grpcPlain.servedBy], grpcPlain.stderr).toEqual(['SERVING', 'web'])

    await stop(session)
    expect(await serviceAsWritten()).toBe(original)
    await suite.expectNoLeftovers()
    expect(await servedBy(['version: alice'])).toEqual(['web'])
  }, 240_000)

  it('refuses a mark that another developer holds, naming them, and changes nothing of theirs', async () => {
    const first = startMesh(alice, 'shared')
    await first.ready
    const before = await ktxObjects()
    const second = await runKtx(env, [
      'mesh',
      'web',
      '-n',
      suite.namespace,
      '-i',
      env.SHADOW_IMAGE,
      '--expose',
      `${String(bob.httpPort)}:8080`,
      '--versionMark',
      'shared',
    ])
    expect(second.code).not.toBe(0)
    expect(second.stderr).toContain('KTX_MESH_MARK_TAKEN')
    expect(await ktxObjects()).toEqual(before)
    expect(await servedBy(['version: shared'])).toEqual(['alice'])
    await stop(first)
    expect(await serviceAsWritten()).toBe(original)
    await suite.expectNoLeftovers()
  }, 240_000)
})

describe('two developers at once', () => {
  it('each gets only their own requests; the first leaves, the second still works; the last one out restores the Service', async () => {
    const first = startMesh(alice, 'alice')
    await first.ready
    const second = startMesh(bob, 'x-dev:bob')
    await second.ready

    expect(await servedBy(['version: alice'])).toEqual(['alice'])
    expect(await servedBy(['x-dev: bob'])).toEqual(['bob'])
    expect(await servedBy([])).toEqual(['web'])
    const grpcBob = await grpcHealth(client, web.grpcAddress, ['x-dev: bob'])
    expect(grpcBob.servedBy, grpcBob.stderr).toBe('bob')

    await stop(first)
    expect(await servedBy(['x-dev: bob'])).toEqual(['bob'])
    expect(await servedBy(['version: alice'])).toEqual(['web'])
    const left = await ktxObjects()
    expect(left).toContain('pod/ktx-router-web')
    expect(left).toContain('service/web-ktx-stuntman')

    await stop(second)
    expect(await serviceAsWritten()).toBe(original)
    await suite.expectNoLeftovers()
    expect(await servedBy(['x-dev: bob'])).toEqual(['web'])
  }, 300_000)
})

describe('kill -9, then ktx clean', () => {
  it('leaves a live developer meshing; once no mesh is live it restores the Service', async () => {
    const killed = startMesh(alice, 'alice', ['--leaseDuration', '10'])
    await killed.ready
    const survivor = startMesh(bob, 'bob', ['--leaseDuration', '10'])
    await survivor.ready
    killed.child.kill('SIGKILL')
    await killed.exited

    // The killed session's route went with its port-forward; bob's did not.
    await expect.poll(() => servedBy(['version: alice']), { timeout: 30_000 }).toEqual(['web'])
    expect(await servedBy(['version: bob'])).toEqual(['bob'])

    // Once alice's lease lapsed, clean removes her session and leaves bob's mesh and the router.
    const shadows = async (): Promise<string[]> =>
      (await ktxObjects()).filter((o) => o.startsWith('pod/ktx-mesh-web-'))
    await expect
      .poll(
        async () => {
          const clean = await runKtx(env, ['clean', '-n', suite.namespace])
          expect(clean.code, clean.stderr).toBe(0)
          return (await shadows()).length
        },
        { timeout: 60_000, interval: 3_000 },
      )
      .toBe(1)
    expect(await servedBy(['version: bob'])).toEqual(['bob'])
    expect(await ktxObjects()).toContain('pod/ktx-router-web')

    // bob is killed too: the next clean after his lease lapsed restores the Service.
    survivor.child.kill('SIGKILL')
    await survivor.exited
    const killedAt = Date.now()
    // A dry run says so once bob's lease lapsed, and changes nothing.
    await expect
      .poll(async () => (await runKtx(env, ['clean', '-n', suite.namespace, '--dryRun'])).stdout, {
        timeout: 60_000,
        interval: 3_000,
      })
      .toContain('would restore service/web')
    expect(await serviceAsWritten()).not.toBe(original)
    await expect
      .poll(
        async () => {
          await runKtx(env, ['clean', '-n', suite.namespace])
          return serviceAsWritten()
        },
        { timeout: 120_000, interval: 3_000 },
      )
      .toBe(original)
    console.log(
      `kill -9 of the last mesh → Service restored by ktx clean after ${String(Date.now() - killedAt)} ms`,
    )
    await expect.poll(() => ktxObjects(), { timeout: 60_000 }).toEqual([])
    expect(await servedBy(['version: bob'])).toEqual(['web'])
  }, 420_000)
})

describe('mesh() (library)', () => {
  it('with await using: marked requests reach the laptop inside the block, the Service is back after it', async () => {
    const script = startLibraryScript(env, libraryScript, [
      suite.namespace,
      env.SHADOW_IMAGE,
      'web',
      `${String(alice.httpPort)}:8080`,
      'x-lib:alice',
    ])
    try {
      const ready = await script.ready
      expect(ready).toMatchObject({
        kind: 'mesh',
        mode: 'auto',
        service: 'web',
        mark: { header: 'x-lib', value: 'alice' },
        router: 'ktx-router-web',
      })
      expect(await servedBy(['x-lib: alice'])).toEqual(['alice'])
      expect(await servedBy([])).toEqual(['web'])
      expect(await script.leave()).toEqual({ code: 0, after: { closed: ready.id } })
    } finally {
      script.kill()
    }
    expect(await serviceAsWritten()).toBe(original)
    await suite.expectNoLeftovers()
  }, 240_000)
})
