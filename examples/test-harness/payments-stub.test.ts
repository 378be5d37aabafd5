/**
 * A harness that stands in for a dependency: a local stub HTTP server becomes the cluster Service
 * `payments`, so the services deployed in the cluster call the stub, and the test sees every
 * request they made. `preview` creates the Service (and a shadow pod) in `beforeAll`; `afterAll`'s
 * `close()` deletes both.
 *
 * Negative control first: before the preview, nothing in the cluster answers as `payments`.
 */
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

import { type PreviewSession, preview } from '@ktx/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type FixtureNamespace, createFixtureNamespace, loadClusterEnv } from '../../test/harness/cluster.js'
import { ktxLeftovers } from '../../test/harness/ktx.js'
import { deployClientPod } from '../../test/harness/preview.js'
import { getFromClientPod } from './cluster-client.js'

const env = loadClusterEnv()
let namespace: FixtureNamespace
let stub: Server
const seen: string[] = []

beforeAll(async () => {
  namespace = await createFixtureNamespace(env, 'example-stub')
  await deployClientPod(env, namespace.name)
  // The stub: answers every call with a canned payment and remembers what was asked.
  stub = createServer((request, response) => {
    seen.push(`${request.method ?? ''} ${request.url ?? ''}`)
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ id: 'pay-1', status: 'settled', stub: true }))
  })
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  await new Promise<void>((resolve) => stub.close(() => resolve()))
  await namespace.close()
})

describe('a local stub previewed as the cluster Service payments', () => {
  const url = () => `http://payments.${namespace.name}/payments/pay-1`

  it('is not there before the preview (the cluster cannot reach this machine)', async () => {
    const before = await getFromClientPod(env, namespace.name, url())
    expect(before.code).not.toBe(0)
    expect(before.stdout).toBe('')
  })

  describe('with the preview', () => {
    let session: PreviewSession
    beforeAll(async () => {
      const { port } = stub.address() as AddressInfo
      session = await preview({
        name: 'payments',
        expose: `${port}:80`,
        kube: { kubeconfig: env.KUBECONFIG_HOST, namespace: namespace.name },
        image: env.SHADOW_IMAGE,
      })
    })
    afterAll(async () => {
      await session.close()
    })

    it('answers the cluster with the stub, and the test sees the request', async () => {
      const answer = await getFromClientPod(env, namespace.name, url())
      expect(answer.stderr).toBe('')
      expect(JSON.parse(answer.stdout)).toEqual({ id: 'pay-1', status: 'settled', stub: true })
      expect(seen).toEqual(['GET /payments/pay-1'])
      expect(session.service).toBe('payments')
    })
  })

  it('is gone again once the session closed, and ktx left nothing', async () => {
    const after = await getFromClientPod(env, namespace.name, url())
    expect(after.code).not.toBe(0)
    expect(await ktxLeftovers(env, namespace.name)).toEqual([])
  })
})
