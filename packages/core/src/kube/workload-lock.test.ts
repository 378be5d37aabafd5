import type { V1Deployment } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { FakeCluster } from '../testing/fake-cluster.js'
import { type LockRecord, readOriginalReplicas } from './redirect-state.js'
import { restoreWorkload, scaleWorkload, takeWorkloadLock } from './workload-lock.js'

const ref = { kind: 'Deployment', name: 'web' } as const
const lock: LockRecord & { service: string } = {
  session: 'aaaa',
  owner: 'ann@laptop',
  lease: 'ktx-aaaa',
  verb: 'exchange',
  mode: 'scale',
  since: '2026-11-22T04:00:00.000Z',
  workload: ref,
  service: 'web',
}

const deployment = (replicas: number): V1Deployment => ({
  metadata: { name: 'web' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } } },
  },
})

// A session that locked deployment/web at 2 replicas and scaled it to 0.
async function scaledBySession(): Promise<{ cluster: FakeCluster; saved: number }> {
  const cluster = new FakeCluster()
  cluster.put('deployments', deployment(2))
  const kube = cluster.kube()
  expect((await takeWorkloadLock(kube, ref, lock)).state).toBe('taken')
  const scaled = await scaleWorkload(kube, ref, { session: 'aaaa', replicas: 0 })
  expect(scaled).toEqual({ written: true, saved: 2, replaced: 2 })
  return { cluster, saved: scaled.saved ?? -1 }
}

const replicasOf = (cluster: FakeCluster): number | undefined =>
  cluster.get('deployments', 'web')?.spec?.replicas

describe('scale mode on a workload', () => {
  it('records the count it set next to the saved one, and puts the saved one back', async () => {
    const { cluster, saved } = await scaledBySession()
    const record = readOriginalReplicas(cluster.get('deployments', 'web')?.metadata?.annotations)
    expect(record).toEqual({
      state: 'valid',
      value: { session: 'aaaa', replicas: 2, service: 'web', scaledTo: 0 },
    })
    const restored = await restoreWorkload(cluster.kube(), ref, { sessions: ['aaaa'], release: true, saved })
    expect(restored).toEqual({ outcome: 'restored', replicas: 2 })
    expect(replicasOf(cluster)).toBe(2)
    expect(cluster.get('deployments', 'web')?.metadata).not.toHaveProperty('annotations')
  })

  it('leaves replicas someone set during the session (kubectl scale, an HPA) and says so', async () => {
    const { cluster, saved } = await scaledBySession()
    cluster.edit('deployments', 'web', (d) => {
      d.spec!.replicas = 5
    })
    const restored = await restoreWorkload(cluster.kube(), ref, { sessions: ['aaaa'], release: true, saved })
    expect(restored).toEqual({ outcome: 'restored', replicas: 5, changed: { found: 5, saved: 2 } })
    expect(replicasOf(cluster)).toBe(5)
    expect(cluster.get('deployments', 'web')?.metadata).not.toHaveProperty('annotations')
  })

  it('a dead session (no count in memory) leaves changed replicas alone too', async () => {
    const { cluster } = await scaledBySession()
    cluster.edit('deployments', 'web', (d) => {
      d.spec!.replicas = 1
    })
    const restored = await restoreWorkload(cluster.kube(), ref, { sessions: ['aaaa'], release: true })
    expect(restored).toEqual({ outcome: 'restored', replicas: 1, changed: { found: 1, saved: 2 } })
    expect(replicasOf(cluster)).toBe(1)
  })

  it('puts back the count the session saved itself when the record was changed under it', async () => {
    const { cluster, saved } = await scaledBySession()
    cluster.edit('deployments', 'web', (d) => {
      d.metadata!.annotations!['ktx.dev/original-replicas'] =
        '{"session":"aaaa","replicas":9,"service":"web","scaledTo":0}'
    })
    const restored = await restoreWorkload(cluster.kube(), ref, { sessions: ['aaaa'], release: true, saved })
    expect(restored).toEqual({ outcome: 'restored', replicas: 2, recordChanged: true })
    expect(replicasOf(cluster)).toBe(2)
  })

  it('puts back the saved count when the records were wiped but the workload is still at 0', async () => {
    const { cluster, saved } = await scaledBySession()
    cluster.edit('deployments', 'web', (d) => {
      delete d.metadata!.annotations
    })
    const restored = await restoreWorkload(cluster.kube(), ref, { sessions: ['aaaa'], release: true, saved })
    expect(restored).toEqual({ outcome: 'not-locked', replicas: 2, recordChanged: true })
    expect(replicasOf(cluster)).toBe(2)
  })

  it("re-scaling with adoptCurrent keeps the owner's newer count to put back, and says what it replaced", async () => {
    const { cluster } = await scaledBySession()
    const kube = cluster.kube()
    cluster.edit('deployments', 'web', (d) => {
      d.spec!.replicas = 3
    })
    const rescaled = await scaleWorkload(kube, ref, { session: 'aaaa', replicas: 0, adoptCurrent: true })
    expect(rescaled).toEqual({ written: true, saved: 3, replaced: 3 })
    expect(replicasOf(cluster)).toBe(0)
    expect(readOriginalReplicas(cluster.get('deployments', 'web')?.metadata?.annotations)).toEqual({
      state: 'valid',
      value: { session: 'aaaa', replicas: 3, service: 'web', scaledTo: 0 },
    })
    // Already at 0: nothing replaced, nothing written.
    const calls = cluster.calls.length
    const again = await scaleWorkload(kube, ref, { session: 'aaaa', replicas: 0, adoptCurrent: true })
    expect(again).toEqual({ written: true, saved: 3 })
    expect(cluster.calls.slice(calls).filter((c) => c.startsWith('patch'))).toEqual([])
    const restored = await restoreWorkload(kube, ref, { sessions: ['aaaa'], release: true, saved: 3 })
    expect(restored).toEqual({ outcome: 'restored', replicas: 3 })
    expect(replicasOf(cluster)).toBe(3)
  })

  it("re-scaling is refused once the lock is another session's", async () => {
    const { cluster } = await scaledBySession()
    cluster.edit('deployments', 'web', (d) => {
      d.spec!.replicas = 2
      d.metadata!.annotations!['ktx.dev/lock'] = JSON.stringify({ ...lock, session: 'bbbb' })
    })
    const rescaled = await scaleWorkload(cluster.kube(), ref, {
      session: 'aaaa',
      replicas: 0,
      adoptCurrent: true,
    })
    expect(rescaled).toEqual({ written: false, saved: undefined })
    expect(replicasOf(cluster)).toBe(2)
  })
})
