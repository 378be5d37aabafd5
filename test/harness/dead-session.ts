/**
 * A session that died the hard way: `ktx exchange` killed with SIGKILL, its Lease then deleted as
 * if it had lapsed. The Service is left pointing at a session that is gone, for `clean`,
 * `recover` and the next ktx run to put back.
 */
import { expect } from 'vitest'

import { type ClusterEnv, kubectl } from './cluster.js'
import { getFromCluster, startKtxExchange } from './exchange.js'

/**
 * Leaves Service `web` of `namespace` redirected by a dead session. `beforeLapse` sees the killed
 * session while its Lease is still there. Resolves with the session id.
 */
export async function killedExchange(
  env: ClusterEnv,
  namespace: string,
  localPort: number,
  beforeLapse?: (session: string) => Promise<void>,
): Promise<string> {
  const ktx = startKtxExchange(env, [
    'web',
    '-n',
    namespace,
    '--expose',
    `${String(localPort)}:8080`,
    '-i',
    env.SHADOW_IMAGE,
  ])
  await ktx.ready
  ktx.child.kill('SIGKILL')
  await ktx.exited
  const session = (
    await kubectl(env, [
      '-n',
      namespace,
      'get',
      'leases',
      '-l',
      'app.kubernetes.io/managed-by=ktx',
      '-o',
      'jsonpath={.items[0].metadata.labels.ktx\\.dev/session}',
    ])
  ).trim()
  expect(session).toMatch(/^[0-9a-f]{8}$/)
  await beforeLapse?.(session)
  await kubectl(env, ['-n', namespace, 'delete', 'leases', '-l', `ktx.dev/session=${session}`, '--wait=true'])
  expect((await getFromCluster(env, namespace, 'http://web/')).stdout).not.toMatch(/^real web-/)
  return session
}
