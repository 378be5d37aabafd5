/**
 * How `ktx exchange` ends on a signal, against the real test cluster. Closing the terminal
 * (SIGHUP) or `kill` (SIGTERM) gives the Service back as Ctrl+C does (exit 0); a second Ctrl+C
 * skips the waits for the cluster to settle but still runs every restore (exit 130): afterwards
 * the Service and the Deployment are exactly what they were and nothing of ktx is left.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'

import type { ClusterEnv } from '../harness/cluster.js'
import {
  annotationsOf,
  deployExchangeFixture,
  getFromCluster,
  laptopIp,
  specOf,
  startKtxExchange,
  startLaptopServers,
} from '../harness/exchange.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({ namespace: 'exchange-signals', shadowImage: true })
const env: ClusterEnv = suite.env
const LAPTOP = 'answered by the laptop'
let port: number
let serviceSpec: string
let deploymentSpec: string

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  const laptop = await startLaptopServers(env, [LAPTOP])
  port = laptop.ports[0]!
  serviceSpec = await specOf(env, suite.namespace, 'service', 'web')
  deploymentSpec = await specOf(env, suite.namespace, 'deployment', 'web')
  return () => laptop.close()
})

function exchangeWeb(mode: 'selector' | 'scale') {
  return startKtxExchange(env, [
    'web',
    '-n',
    suite.namespace,
    '--mode',
    mode,
    '--expose',
    `${port}:8080`,
    '--image',
    env.SHADOW_IMAGE,
  ])
}

async function answeredBy(): Promise<string> {
  return (await getFromCluster(env, suite.namespace, 'http://web/')).stdout
}

// The Service and Deployment byte for byte as before, no ktx annotation, no ktx object.
async function expectRestored(): Promise<void> {
  expect(await specOf(env, suite.namespace, 'service', 'web')).toBe(serviceSpec)
  expect(await specOf(env, suite.namespace, 'deployment', 'web')).toBe(deploymentSpec)
  const annotations = {
    ...(await annotationsOf(env, suite.namespace, 'service', 'web')),
    ...(await annotationsOf(env, suite.namespace, 'deployment', 'web')),
  }
  expect(Object.keys(annotations).filter((key) => key.startsWith('ktx.dev/'))).toEqual([])
}

describe('negative control: without ktx', () => {
  it('callers reach the real pods, and cannot reach the laptop', async () => {
    expect(await answeredBy()).toMatch(/^real web-/)
    const direct = await getFromCluster(env, suite.namespace, `http://${laptopIp(env)}:${port}/`)
    expect(direct.code).not.toBe(0)
  })
})

describe.each(['SIGTERM', 'SIGHUP'] as const)('%s (kill, a closed terminal)', (signal) => {
  it('gives the Service back gracefully and exits 0', async () => {
    const ktx = exchangeWeb('selector')
    try {
      await ktx.ready
      expect(await answeredBy()).toBe(`${LAPTOP}\n`)
    } finally {
      ktx.child.kill(signal)
    }
    const result = await ktx.exited
    expect(result.stderr).toContain(`${signal}: disconnecting`)
    expect(result.stderr).toContain('Disconnected; everything ktx created was removed.')
    expect(result.code).toBe(0)
    // Graceful: ktx waited until the Service's traffic was the real pods' again.
    expect(await answeredBy()).toMatch(/^real web-/)
    await expectRestored()
    await suite.expectNoLeftovers()
  })
})

describe('Ctrl+C twice, quickly', () => {
  it('skips the waits but still scales the Deployment back and restores the Service (exit 130)', async () => {
    const ktx = exchangeWeb('scale')
    try {
      await ktx.ready
      expect(await answeredBy()).toBe(`${LAPTOP}\n`)
    } finally {
      ktx.child.kill('SIGINT')
    }
    await vi.waitFor(() => expect(ktx.output().stderr).toContain('SIGINT: disconnecting'), {
      timeout: 10_000,
      interval: 20,
    })
    const second = Date.now()
    ktx.child.kill('SIGINT')
    const result = await ktx.exited
    const hurriedMs = Date.now() - second
    console.log(`exchange --mode scale: exit ${String(result.code)} ${hurriedMs} ms after the second SIGINT`)
    expect(result.stderr).toContain('SIGINT: putting everything back without waiting for it to settle')
    expect(result.stderr).toContain('Interrupted by SIGINT')
    expect(result.code).toBe(130)
    // Every restore ran before the exit: the objects are back now, not eventually.
    await expectRestored()
    // What was not waited for (the workload's pods Ready, the shadow pod gone) settles by itself.
    await vi.waitFor(async () => expect(await answeredBy()).toMatch(/^real web-/), {
      timeout: 60_000,
      interval: 500,
    })
    await vi.waitFor(() => suite.expectNoLeftovers(), { timeout: 60_000, interval: 500 })
  })
})
