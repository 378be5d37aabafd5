/**
 * `ktx status` against the real cluster, from the laptop network namespace. A `ktx connect --mode
 * socks` (image from KTX_IMAGE) and a `ktx exchange` (image from `ktx config set image`) run side
 * by side; `ktx status` must list both with their verb, namespace, target, ports, uptime and
 * state, and `ktx status --cluster --json` both Leases with owner, host, verb, renewal, alive and
 * what each holds. Once they end, neither lists anything and nothing of ktx is left. The state
 * directory and config file are private to this suite (other suites run ktx on this machine too).
 */
import { mkdtempSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { ClusterStatusReport, LocalStatusReport } from '@ktx/core'

import type { ClusterEnv } from '../harness/cluster.js'
import {
  type LaptopServers,
  deployExchangeFixture,
  getFromCluster,
  runKtx,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { startKtxConnect } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({
  namespace: 'status',
  shadowImage: true,
  negativeControl: { unreachable: () => [`http://web.${suite.namespace}/`] },
})
const env: ClusterEnv = suite.env
const private_ = mkdtempSync(join(tmpdir(), 'ktx-status-e2e-'))
// Inherited by every ktx this file starts (spawnInLaptop passes process.env on).
process.env.KTX_STATE_DIR = join(private_, 'state')
process.env.XDG_CONFIG_HOME = join(private_, 'config')
let laptop: LaptopServers

async function ktxJson<T>(args: readonly string[]): Promise<T> {
  const result = await runKtx(env, [...args, '--json'], 60_000)
  expect(result.code, result.stderr).toBe(0)
  // --json prints NDJSON: the report is the result line's `result`.
  const lines = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; result?: T })
  const final = lines.at(-1)
  expect(final?.type).toBe('result')
  return final?.result as T
}

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  laptop = await startLaptopServers(env, ['answered by the laptop'])
})

afterAll(async () => {
  await (laptop as LaptopServers | undefined)?.close()
})

describe('ktx status', () => {
  it('lists a running connect and exchange here and in the cluster, and nothing once they end', async () => {
    expect((await ktxJson<LocalStatusReport>(['status'])).sessions).toEqual([])
    expect(
      (await ktxJson<ClusterStatusReport>(['status', '--cluster', '-n', suite.namespace])).sessions,
    ).toEqual([])

    const set = await runKtx(env, ['config', 'set', 'image', env.SHADOW_IMAGE])
    expect(set.code, set.stderr).toBe(0)
    const port = laptop.ports[0]!
    // No --image on either: one takes KTX_IMAGE, the other the config file.
    const connect = startKtxConnect(env, ['-n', suite.namespace], { KTX_IMAGE: env.SHADOW_IMAGE })
    const exchange = startKtxExchange(env, ['web', '-n', suite.namespace, '--expose', `${port}:8080`])
    try {
      const proxies = await connect.ready
      await exchange.ready
      expect((await getFromCluster(env, suite.namespace, 'http://web/')).stdout).toBe(
        'answered by the laptop\n',
      )

      const local = await ktxJson<LocalStatusReport>(['status'])
      expect(local.stale).toEqual([])
      const byVerb = Object.fromEntries(local.sessions.map((s) => [s.verb, s]))
      expect(Object.keys(byVerb).sort()).toEqual(['connect', 'exchange'])
      expect(byVerb.connect).toMatchObject({
        namespace: suite.namespace,
        target: 'socks',
        ports: [`socks ${proxies.socksPort}`, `http ${proxies.httpPort}`],
        state: 'ready',
        process: { pid: expect.any(Number) as number },
      })
      expect(byVerb.exchange).toMatchObject({
        namespace: suite.namespace,
        target: 'web',
        ports: [`${port}→8080`],
        state: 'ready',
      })
      for (const s of local.sessions) expect(s.uptimeSeconds).toBeGreaterThanOrEqual(0)
      const text = await runKtx(env, ['status'])
      for (const s of local.sessions) expect(text.stdout).toContain(s.id)

      const cluster = await ktxJson<ClusterStatusReport>(['status', '--cluster', '-n', suite.namespace])
      expect(cluster.namespace).toBe(suite.namespace)
      expect(cluster.sessions.map((s) => s.id).sort()).toEqual(local.sessions.map((s) => s.id).sort())
      for (const s of cluster.sessions) {
        expect(s.alive).toBe(true)
        expect(s.owner).toMatch(/@/)
        expect(s.host).toBe(hostname())
        expect(Date.parse(s.lastRenewal ?? '')).not.toBeNaN()
        expect(s.sinceRenewalSeconds).toBeLessThan(60)
        expect(s.pods).toHaveLength(1)
        expect(s.verb).toBe(byVerb[s.verb ?? '']?.verb)
      }
      const clusterExchange = cluster.sessions.find((s) => s.verb === 'exchange')
      expect(clusterExchange?.id).toBe(byVerb.exchange?.id)
      expect(clusterExchange?.holds).toEqual([{ how: 'exchanged', service: 'web' }])
      expect(cluster.sessions.find((s) => s.verb === 'connect')?.holds).toEqual([])
      const clusterText = await runKtx(env, ['status', '--cluster', '-n', suite.namespace])
      expect(clusterText.stdout).toContain('exchanged web')
    } finally {
      connect.child.kill('SIGINT')
      exchange.child.kill('SIGINT')
    }
    expect((await connect.exited).code).toBe(0)
    expect((await exchange.exited).code).toBe(0)

    expect(await ktxJson<LocalStatusReport>(['status'])).toEqual({ sessions: [], stale: [] })
    expect(
      (await ktxJson<ClusterStatusReport>(['status', '--cluster', '-n', suite.namespace])).sessions,
    ).toEqual([])
    await suite.expectNoLeftovers()
  })
})
