/**
 * A test suite that calls an in-cluster Service by name through a ktx session.
 *
 * The host running this suite cannot resolve cluster names (`orders.<namespace>` is not in its
 * DNS), so the first test shows the name fails without ktx, and the second that it answers with it.
 */
import { get } from 'node:http'

import { connect, type ConnectSession } from '@ktx/core'
import { fetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  type FixtureNamespace,
  createFixtureNamespace,
  deployWeb,
  loadClusterEnv,
} from '../../test/harness/cluster.js'
import { ktxLeftovers } from '../../test/harness/ktx.js'

const env = loadClusterEnv()
let namespace: FixtureNamespace
let session: ConnectSession

beforeAll(async () => {
  namespace = await createFixtureNamespace(env, 'example')
  await deployWeb(env, namespace.name, 'orders', { body: 'orders: 3 open' })
  session = await connect({
    mode: 'socks',
    kube: { kubeconfig: env.KUBECONFIG_HOST, namespace: namespace.name },
    image: env.SHADOW_IMAGE,
  })
})

afterAll(async () => {
  try {
    await session.close()
    // Closing removed the shadow pod and the lease: nothing of ktx is left in the namespace.
    expect(await ktxLeftovers(env, namespace.name)).toEqual([])
  } finally {
    await namespace.close()
  }
})

describe('orders, called from a test through ktx', () => {
  it('is not resolvable from this machine on its own', async () => {
    await expect(fetch(`http://orders.${namespace.name}/`)).rejects.toThrow()
  })

  it('answers by its cluster DNS name through the session', async () => {
    const response = await fetch(`http://orders.${namespace.name}/`, { dispatcher: session.dispatcher })
    expect(response.status).toBe(200)
    expect((await response.text()).trim()).toBe('orders: 3 open')
  })

  it('answers node:http through the session agent, by its full cluster name', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      get(`http://orders.${namespace.name}.svc.cluster.local/`, { agent: session.httpAgent }, (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => (text += chunk.toString()))
        response.on('end', () => resolve(text))
      }).on('error', reject)
    })
    expect(body.trim()).toBe('orders: 3 open')
  })
})
