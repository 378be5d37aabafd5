/**
 * Mesh a Service for the length of one test: inside the test, `await using` meshes `web`, so only
 * requests carrying this test's version mark reach a local handler while every other caller keeps
 * the real pods; leaving the block ends the mesh and puts the Service back.
 *
 * Negative control first: the marked request reaches a real pod before the mesh (and after it).
 */
import { randomBytes } from 'node:crypto'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

import { mesh } from '@ktx/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type FixtureNamespace, createFixtureNamespace, loadClusterEnv } from '../../test/harness/cluster.js'
import { deployExchangeFixture } from '../../test/harness/exchange.js'
import { ktxLeftovers } from '../../test/harness/ktx.js'
import { getFromClientPod } from './cluster-client.js'

const env = loadClusterEnv()
const mark = `test-${randomBytes(3).toString('hex')}`
const marked = [`VERSION: ${mark}`]
let namespace: FixtureNamespace
let local: Server

beforeAll(async () => {
  namespace = await createFixtureNamespace(env, 'example-mesh')
  // Deployment web (pods answer "real <pod>"), its Service (80 → 8080) and a client pod.
  await deployExchangeFixture(env, namespace.name)
  local = createServer((_request, response) => response.end(`local build for ${mark}\n`))
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  await new Promise<void>((resolve) => local.close(() => resolve()))
  await namespace.close()
})

describe('web meshed for one test', () => {
  const url = () => `http://web.${namespace.name}/`

  it('sends the marked request to a real pod without the mesh', async () => {
    expect((await getFromClientPod(env, namespace.name, url(), marked)).stdout).toMatch(/^real web-/)
  })

  it('sends only the marked requests here while the block runs, and puts web back after it', async () => {
    {
      await using session = await mesh({
        service: 'web',
        expose: `${(local.address() as AddressInfo).port}:8080`,
        versionMark: mark,
        kube: { kubeconfig: env.KUBECONFIG_HOST, namespace: namespace.name },
        image: env.SHADOW_IMAGE,
      })
      expect(session.mark).toEqual({ header: 'version', value: mark })

      expect((await getFromClientPod(env, namespace.name, url(), marked)).stdout).toBe(
        `local build for ${mark}\n`,
      )
      expect((await getFromClientPod(env, namespace.name, url())).stdout).toMatch(/^real web-/)
    }
    expect((await getFromClientPod(env, namespace.name, url(), marked)).stdout).toMatch(/^real web-/)
    expect(await ktxLeftovers(env, namespace.name)).toEqual([])
  })
})
