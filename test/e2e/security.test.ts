/**
 * Security properties of a session, on the real cluster:
 * - the agent's SSH port is not reachable from another pod (only a port-forward, which needs RBAC,
 *   reaches it), while the same pod's health port is (so the probe itself works);
 * - no private key material is in any object a session made (pods with their spec, env and
 *   annotations, the Lease, Services, EndpointSlices, events, ConfigMaps and Secrets cluster-wide):
 *   the only key is each session's own public key;
 * - a session's agent refuses another session's key, and accepts its own.
 */
import { randomBytes } from 'node:crypto'

import { AGENT_DIRECT_PORT, AGENT_ENV, AGENT_SSH_PORT, AGENT_SSH_USER } from '@ktx/core/contract'
import { createKube, createShadowPod, deletePodAndWait, openPortForward, waitPodReady } from '@ktx/core/kube'
import { createDirectDialer, generateSessionKey, openSsh, sessionSigner } from '@ktx/core/tunnel'
import { noopLogger } from '@ktx/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { kubectl, run } from '../harness/cluster.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  getFromCluster,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { type RunningKtx, type RunningVerb, startKtxConnect } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'security', shadowImage: true })
const { env } = suite
const LAPTOP = 'answered by the laptop'
let laptop: LaptopServers
let exchange: RunningVerb
let connect: RunningKtx

interface PodView {
  metadata: { name: string; labels?: Record<string, string> }
  spec: { containers: { env?: { name: string; value?: string }[] }[] }
  status: { podIP?: string }
}

async function sessionPods(): Promise<PodView[]> {
  const out = await kubectl(env, [
    '-n',
    suite.namespace,
    'get',
    'pods',
    '-l',
    'app.kubernetes.io/managed-by=ktx',
    '-o',
    'json',
  ])
  return (JSON.parse(out) as { items: PodView[] }).items
}

function fromClient(args: readonly string[]) {
  return run(
    env.KUBECTL,
    ['--kubeconfig', env.KUBECONFIG_HOST, '-n', suite.namespace, 'exec', 'client', '--', ...args],
    {
      timeoutMs: 30_000,
    },
  )
}

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  laptop = await startLaptopServers(env, [LAPTOP])
})

afterAll(async () => {
  for (const session of [exchange, connect] as (RunningVerb | RunningKtx | undefined)[]) {
    if (session?.child.exitCode === null) {
      session.child.kill('SIGINT')
      await session.exited
    }
  }
  await (laptop as LaptopServers | undefined)?.close()
})

describe('negative control: without ktx', () => {
  it('a cluster pod cannot reach the laptop, and no ktx pod runs', async () => {
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptop.ports[0]!)
    expect(await sessionPods()).toEqual([])
  })
})

describe('two live sessions (exchange and connect)', () => {
  beforeAll(async () => {
    exchange = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--expose',
      `${String(laptop.ports[0])}:8080`,
      '-i',
      env.SHADOW_IMAGE,
    ])
    connect = startKtxConnect(env, ['-n', suite.namespace, '-i', env.SHADOW_IMAGE])
    await Promise.all([exchange.ready, connect.ready])
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
  })

  it("the agents' SSH and direct-path ports refuse other pods; their health port answers them", async () => {
    const pods = await sessionPods()
    expect(pods).toHaveLength(2)
    for (const pod of pods) {
      const ip = pod.status.podIP!
      const health = await fromClient(['timeout', '5', 'wget', '-qO-', `http://${ip}:8081/healthz`])
      expect(health.stdout, pod.metadata.name).toBe('ok\n')
      // Both servers speak first (SSH's banner `SSH-2.0-…`, the direct path's `KTXD1` hello): from a
      // reachable port nc would print it and exit 0.
      for (const [port, greeting] of [
        [AGENT_SSH_PORT, 'SSH-'],
        [AGENT_DIRECT_PORT, 'KTXD'],
      ] as const) {
        const probe = await fromClient([
          'sh',
          '-c',
          `echo | timeout 5 nc ${ip} ${String(port)}; echo "exit $?"`,
        ])
        expect(probe.stdout, `${pod.metadata.name}:${port}`).not.toContain(greeting)
        expect(probe.stdout, `${pod.metadata.name}:${port}`).not.toContain('exit 0')
      }
    }
  })

  it('no object holds private key material; the only keys are the sessions’ own public keys', async () => {
    const kinds = ['pods', 'services', 'endpointslices', 'leases', 'events', 'deployments', 'replicasets']
    const namespaced = await Promise.all(
      kinds.map((kind) => kubectl(env, ['-n', suite.namespace, 'get', kind, '-o', 'json'])),
    )
    const clusterWide = await Promise.all(
      ['configmaps', 'secrets'].map((kind) => kubectl(env, ['get', kind, '-A', '-o', 'json'])),
    )
    const dump = [...namespaced, ...clusterWide].join('\n')
    expect(dump).toContain('"kind": "Lease"')
    // PEM headers, the OpenSSH private key magic, and the same magic base64-encoded (as a Secret would hold it).
    for (const marker of ['PRIVATE KEY', 'openssh-key-v1', 'b3BlbnNzaC1rZXktdjE']) {
      expect(dump.includes(marker), marker).toBe(false)
    }
    const keys = new Set(
      [...dump.matchAll(/(?:ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-[\w-]+) [A-Za-z0-9+/=]+/g)].map(
        (m) => m[0],
      ),
    )
    const pods = await sessionPods()
    const authorized = pods.map((pod) => {
      const vars = pod.spec.containers.flatMap((c) => c.env ?? [])
      // Nothing but the contract's variables reaches the agent.
      for (const v of vars) expect(Object.values(AGENT_ENV), v.name).toContain(v.name)
      const key = vars.find((v) => v.name === AGENT_ENV.authorizedKey)?.value ?? ''
      expect(key).toMatch(/^ssh-ed25519 [A-Za-z0-9+/=]+ /)
      return key.split(' ').slice(0, 2).join(' ')
    })
    expect(new Set(authorized).size, 'each session its own key').toBe(2)
    expect([...keys].sort()).toEqual([...new Set(authorized)].sort())
  })

  it("a session's agent refuses another session's key over a port-forward", async () => {
    const kube = createKube({ kubeconfig: env.KUBECONFIG_HOST, namespace: suite.namespace })
    const other = generateSessionKey('another-session')
    for (const pod of await sessionPods()) {
      const sock = await openPortForward(kube, {
        pod: pod.metadata.name,
        port: AGENT_SSH_PORT,
        timeoutMs: 30_000,
      })
      const refused = await openSsh({
        sock,
        username: AGENT_SSH_USER,
        privateKey: other.privateKey,
        readyTimeoutMs: 30_000,
        logger: noopLogger,
      }).then(
        (ssh) => (ssh.destroy(), 'accepted'),
        (error: unknown) => (error as Error).message,
      )
      expect(refused, pod.metadata.name).toMatch(/authentication/i)
      sock.destroy()
    }
    // Both sessions still serve: a refused login touches nothing.
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
  })

  it("a session's agent refuses a direct-path request signed by another key", async () => {
    const kube = createKube({ kubeconfig: env.KUBECONFIG_HOST, namespace: suite.namespace })
    for (const pod of await sessionPods()) {
      const direct = createDirectDialer({
        open: () =>
          openPortForward(kube, { pod: pod.metadata.name, port: AGENT_DIRECT_PORT, timeoutMs: 30_000 }),
        sign: sessionSigner(generateSessionKey('another-session').privateKey),
        fallback: { dial: () => Promise.reject(new Error('no fallback in this test')) },
        spare: 1,
        handshakeTimeoutMs: 30_000,
        log: noopLogger,
      })
      try {
        await direct.proven
        await expect(direct.dial('web', 80), pod.metadata.name).rejects.toMatchObject({
          socketCode: 'EACCES',
        })
      } finally {
        direct.close()
      }
    }
    expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(`${LAPTOP}\n`)
  })
})

describe('positive control of the key check', () => {
  it('an agent accepts the key it was started with, over the same port-forward path', async () => {
    const kube = createKube({ kubeconfig: env.KUBECONFIG_HOST, namespace: suite.namespace })
    const own = generateSessionKey('own')
    const name = `ktx-keycheck-${randomBytes(3).toString('hex')}`
    const created = await createShadowPod(kube, {
      name,
      namespace: suite.namespace,
      sessionId: undefined,
      owner: 'security-e2e',
      image: env.SHADOW_IMAGE,
      authorizedKey: own.publicKey,
    })
    try {
      await waitPodReady(kube, {
        name,
        image: env.SHADOW_IMAGE,
        timeoutMs: 90_000,
        created,
        logger: noopLogger,
      })
      const login = async (privateKey: string): Promise<string> => {
        const sock = await openPortForward(kube, { pod: name, port: AGENT_SSH_PORT, timeoutMs: 30_000 })
        try {
          const ssh = await openSsh({
            sock,
            username: AGENT_SSH_USER,
            privateKey,
            readyTimeoutMs: 30_000,
            logger: noopLogger,
          })
          ssh.destroy()
          return 'accepted'
        } catch (error) {
          return (error as Error).message
        } finally {
          sock.destroy()
        }
      }
      expect(await login(own.privateKey)).toBe('accepted')
      expect(await login(generateSessionKey('other').privateKey)).toMatch(/authentication/i)
    } finally {
      await deletePodAndWait(kube, name)
    }
  })
})
