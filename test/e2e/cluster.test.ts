/**
 * The test cluster itself: a Ready node, Services reachable by ClusterIP and DNS from pods, a working
 * port-forward from the laptop, and the laptop's isolation (the negative control every other e2e
 * suite relies on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import {
  createFixtureNamespace,
  curlFromLaptop,
  deployWeb,
  inLaptop,
  kubectl,
  loadClusterEnv,
  nodePortOf,
  runOk,
  type FixtureNamespace,
  type WebWorkload,
} from '../harness/cluster.js'

const env = loadClusterEnv()
let ns: FixtureNamespace
let web: WebWorkload

beforeAll(async () => {
  ns = await createFixtureNamespace(env, 'cluster')
  web = await deployWeb(env, ns.name, 'web', { nodePort: true })
})
afterAll(async () => {
  await ns.close()
})

describe('the test cluster', () => {
  it('has one Ready node', async () => {
    const ready = await kubectl(env, [
      'get',
      'nodes',
      '-o',
      'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
    ])
    expect(ready.trim()).toBe('True')
  })

  it('answers HTTP through a ClusterIP and a DNS name from another pod', async () => {
    const client = 'client'
    await kubectl(env, [
      '-n',
      ns.name,
      'run',
      client,
      `--image=${env.BUSYBOX_IMAGE}`,
      '--image-pull-policy=IfNotPresent',
      '--restart=Never',
      '--command',
      '--',
      'sh',
      '-c',
      'trap "exit 0" TERM; sleep 3600 & wait',
    ])
    await kubectl(env, ['-n', ns.name, 'wait', '--for=condition=Ready', `pod/${client}`, '--timeout=120s'])
    // No -T: Debian's static busybox wget crashes (SIGSEGV) with a timeout set.
    for (const target of [web.clusterIP, 'web', `web.${ns.name}`, `web.${ns.name}.svc.cluster.local`]) {
      const body = await kubectl(env, [
        '-n',
        ns.name,
        'exec',
        client,
        '--',
        'wget',
        '-qO-',
        `http://${target}/`,
      ])
      expect(body.trim(), target).toBe(web.body)
    }
  })

  it('port-forwards to a pod from inside the laptop namespace', async () => {
    const podName = (
      await kubectl(env, [
        '-n',
        ns.name,
        'get',
        'pods',
        '-l',
        'app=web',
        '-o',
        'jsonpath={.items[0].metadata.name}',
      ])
    ).trim()
    const forward = spawn(
      'ip',
      [
        'netns',
        'exec',
        env.LAPTOP_NETNS,
        env.KUBECTL,
        '--kubeconfig',
        env.KUBECONFIG_LAPTOP,
        '-n',
        ns.name,
        'port-forward',
        `pod/${podName}`,
        ':8080',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      // kubectl prints the chosen local port once the forward is listening.
      const localPort = await new Promise<number>((resolve, reject) => {
        let seen = ''
        forward.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString()
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(seen)
          if (match) resolve(Number(match[1]))
        })
        forward.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}`)))
      })
      const result = await curlFromLaptop(env, `http://127.0.0.1:${localPort}/`)
      expect(result.stderr).toBe('')
      expect(result.stdout.trim()).toBe(web.body)
    } finally {
      forward.kill('SIGINT')
    }
  })

  describe('seen from the laptop namespace (negative control)', () => {
    it('reaches the API server', async () => {
      const result = await inLaptop(env, env.KUBECTL, [
        '--kubeconfig',
        env.KUBECONFIG_LAPTOP,
        'get',
        '--raw',
        '/readyz',
      ])
      expect(result.stdout.trim()).toBe('ok')
    })

    it('cannot connect to a Pod IP', async () => {
      const result = await curlFromLaptop(env, `http://${web.podIPs[0]}:8080/`)
      expect(result.code).not.toBe(0)
      expect(result.stdout).toBe('')
    })

    it('cannot connect to a ClusterIP', async () => {
      const result = await curlFromLaptop(env, `http://${web.clusterIP}/`)
      expect(result.code).not.toBe(0)
      expect(result.stdout).toBe('')
    })

    it('cannot resolve through the cluster DNS server', async () => {
      const result = await inLaptop(env, 'dig', [
        '+time=1',
        '+tries=1',
        `@${env.CLUSTER_DNS_IP}`,
        'kubernetes.default.svc.cluster.local',
      ])
      expect(result.code).not.toBe(0)
      expect(result.stdout).toMatch(/timed out|no servers could be reached/)
    })

    it('cannot connect to a NodePort on the node address', async () => {
      const port = await nodePortOf(env, ns.name, 'web')
      // The same NodePort answers from the host, so the failure below is the laptop's isolation.
      const fromHost = await runOk('curl', [
        '-sS',
        '--max-time',
        '5',
        `http://${env.CLUSTER_NODE_IP}:${port}/`,
      ])
      expect(fromHost.trim()).toBe(web.body)
      const result = await curlFromLaptop(env, `http://${env.CLUSTER_NODE_IP}:${port}/`)
      expect(result.code).not.toBe(0)
      expect(result.stdout).toBe('')
    })

    it('cannot connect to the kubelet on the node address', async () => {
      const result = await curlFromLaptop(env, `https://${env.CLUSTER_NODE_IP}:10250/healthz`, ['-k'])
      expect(result.code).not.toBe(0)
    })
  })
})
