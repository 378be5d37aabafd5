import { KubeConfig } from '@kubernetes/client-node'

import type { Kube } from '../kube/client.js'

/** The API groups a fake supplies; each only needs the methods the code under test calls. */
export interface FakeApis {
  readonly core?: object
  readonly coordination?: object
  readonly apps?: object
  readonly discovery?: object
}

/**
 * A {@link Kube} for unit tests in namespace `ns`: calls go straight to the given API objects
 * (no timeouts, no error mapping), so a test states exactly the calls it expects. Never the
 * proof that a verb works against a cluster; the e2e suites are.
 */
export function fakeKube(apis: FakeApis, namespace = 'ns'): Kube {
  return {
    config: new KubeConfig(),
    context: 'fake',
    namespace,
    server: 'https://fake:6443',
    core: (apis.core ?? {}) as Kube['core'],
    coordination: (apis.coordination ?? {}) as Kube['coordination'],
    apps: (apis.apps ?? {}) as Kube['apps'],
    discovery: (apis.discovery ?? {}) as Kube['discovery'],
    requestTimeoutMs: 1_000,
    call: (_what, fn) => fn({}),
  }
}
