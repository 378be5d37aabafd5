/**
 * The cluster scripts' refusals: each says what is wrong and what to do, and none touches the
 * running cluster.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { kubectl, loadClusterEnv, run } from '../harness/cluster.js'

const env = loadClusterEnv()
const upScript = join(env.CLUSTER_ROOT, 'up.sh')
const scratch = mkdtempSync(join(tmpdir(), 'ktx-cluster-errors-'))
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

async function nodeReady(): Promise<string> {
  return kubectl(env, [
    'get',
    'nodes',
    '-o',
    'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
  ])
}

describe('cluster:up refuses clearly', () => {
  it('without root', async () => {
    const result = await run('setpriv', [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      'bash',
      upScript,
    ])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('needs root')
    expect(result.stderr).toContain('sudo')
  })

  it('when a port it needs is taken by something else', async () => {
    // A second cluster state directory: the running cluster's processes are not "ours" to it.
    const result = await run('bash', [upScript], {
      env: { ...process.env, KTX_CLUSTER_STATE: join(scratch, 'state') },
    })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/port \d+ \(for [a-z-]+\) is already taken by another process/)
    expect(result.stderr).toContain('cluster:down')
    expect((await nodeReady()).trim()).toBe('True')
  })

  it('when Go is needed for a build but missing', async () => {
    // An empty binary cache forces a build; a PATH without Go makes it impossible.
    const result = await run('bash', [join(env.CLUSTER_ROOT, 'lib', 'build-k8s.sh')], {
      env: { ...process.env, KTX_CACHE: join(scratch, 'cache'), PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    })
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('Go is not installed')
    expect(result.stderr).toContain('go.dev/doc/install')
  })
})
