import type { V1Service } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { type LockRecord, formatRecord } from '../../kube/redirect-state.js'
import { FakeCluster } from '../../testing/fake-cluster.js'
import { cleanCluster } from './cluster.js'

const lockOf = (session: string): LockRecord => ({
  session,
  owner: `${session}@laptop`,
  lease: `ktx-${session}`,
  verb: 'exchange',
  mode: 'selector',
  since: '2026-11-22T04:00:00.000Z',
})

function exchangedService(name: string, session: string): V1Service {
  return {
    metadata: {
      name,
      annotations: {
        'ktx.dev/lock': formatRecord(lockOf(session)),
        'ktx.dev/original-selector': formatRecord({ session, selector: { app: name } }),
      },
    },
    spec: { selector: { 'ktx.dev/exchange': session }, ports: [{ port: 80 }] },
  }
}

// A session that starts right after clean listed the Leases: its Lease, its pod, its exchange.
function startSession(cluster: FakeCluster, session: string, service: string): void {
  cluster.putLease(session, 0)
  cluster.putPod(session)
  cluster.put('services', exchangedService(service, session))
}

describe('clean', () => {
  it('reaps a dead session: Service put back, pod and Lease deleted', async () => {
    const cluster = new FakeCluster()
    cluster.putLease('dead', 60)
    cluster.putPod('dead')
    cluster.put('services', exchangedService('web', 'dead'))
    const report = await cleanCluster({ kube: cluster.kube(), waitMs: 0 })
    expect(report).toMatchObject({ deadSessions: ['dead'], liveSessions: [], restoredServices: ['web'] })
    expect(cluster.get('services', 'web')?.spec?.selector).toEqual({ app: 'web' })
    expect(cluster.get('pods', 'ktx-shadow-dead')).toBeUndefined()
    expect(cluster.get('leases', 'ktx-dead')).toBeUndefined()
  })

  it('leaves alone a session that started after the Lease list: its pod, Lease and Service', async () => {
    const cluster = new FakeCluster()
    cluster.putLease('dead', 60)
    cluster.putPod('dead')
    cluster.before('listNamespacedPod', (c) => {
      startSession(c, 'late', 'api')
    })
    const report = await cleanCluster({ kube: cluster.kube(), waitMs: 0 })
    expect(cluster.get('pods', 'ktx-shadow-late')).toBeDefined()
    expect(cluster.get('leases', 'ktx-late')).toBeDefined()
    expect(cluster.get('services', 'api')?.spec?.selector).toEqual({ 'ktx.dev/exchange': 'late' })
    expect(report).toMatchObject({
      deadSessions: ['dead'],
      liveSessions: ['late'],
      restoredServices: [],
      warnings: [],
    })
    expect(cluster.get('pods', 'ktx-shadow-dead')).toBeUndefined()
  })

  it('in a dry run, reports a session that started after the Lease list as live', async () => {
    const cluster = new FakeCluster()
    cluster.before('listNamespacedPod', (c) => {
      startSession(c, 'late', 'api')
    })
    const report = await cleanCluster({ kube: cluster.kube(), dryRun: true })
    expect(report).toMatchObject({ deadSessions: [], liveSessions: ['late'], restoredServices: [] })
  })
})
