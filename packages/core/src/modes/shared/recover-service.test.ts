import type { V1Deployment, V1Service } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { type LockRecord, formatRecord } from '../../kube/redirect-state.js'
import { noopLogger } from '../../logger.js'
import { FakeCluster } from '../../testing/fake-cluster.js'
import { recoverService } from './recover-service.js'

const lockOf = (session: string, mode: LockRecord['mode'] = 'selector'): LockRecord => ({
  session,
  owner: `${session}@laptop`,
  lease: `ktx-${session}`,
  verb: 'exchange',
  mode,
  since: '2026-11-22T04:00:00.000Z',
  ...(mode === 'scale' ? { workload: { kind: 'Deployment', name: 'web' } } : {}),
})

// The Service as a selector-mode session leaves it: locked, original saved, pointed at its shadow.
function exchangedService(session: string): V1Service {
  return {
    metadata: {
      name: 'web',
      annotations: {
        'ktx.dev/lock': formatRecord(lockOf(session)),
        'ktx.dev/original-selector': formatRecord({ session, selector: { app: 'web' } }),
      },
    },
    spec: { selector: { 'ktx.dev/exchange': session }, ports: [{ port: 80 }] },
  }
}

// The Service and Deployment as a scale-mode session leaves them: both locked, scaled to 0.
function scaledPair(session: string): { service: V1Service; deployment: V1Deployment } {
  return {
    service: {
      metadata: { name: 'web', annotations: { 'ktx.dev/lock': formatRecord(lockOf(session, 'scale')) } },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    },
    deployment: {
      metadata: {
        name: 'web',
        annotations: {
          'ktx.dev/lock': formatRecord(lockOf(session, 'scale')),
          'ktx.dev/original-replicas': formatRecord({ session, replicas: 2, service: 'web', scaledTo: 0 }),
        },
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } } },
      },
    },
  }
}

const options = { force: false, waitMs: 0, logger: noopLogger }

describe('recover', () => {
  it('puts back what a dead session left and deletes its objects', async () => {
    const cluster = new FakeCluster()
    cluster.put('services', exchangedService('dead'))
    cluster.putLease('dead', 60)
    cluster.putPod('dead')
    const report = await recoverService(cluster.kube(), 'web', options)
    expect(report.state).toBe('recovered')
    expect(cluster.get('services', 'web')?.spec?.selector).toEqual({ app: 'web' })
    expect(cluster.get('services', 'web')?.metadata).not.toHaveProperty('annotations')
    expect(cluster.get('pods', 'ktx-shadow-dead')).toBeUndefined()
    expect(cluster.get('leases', 'ktx-dead')).toBeUndefined()
  })

  it('leaves alone a lock another session took after recover read the Service', async () => {
    const cluster = new FakeCluster()
    cluster.put('services', exchangedService('dead'))
    cluster.putLease('dead', 60)
    // While recover judges the dead session, a new one recovers the Service itself and takes it.
    cluster.before('readNamespacedLeaseWithHttpInfo', (c) => {
      c.putLease('live', 0)
      c.put('services', exchangedService('live'))
      c.putPod('live')
    })
    const report = await recoverService(cluster.kube(), 'web', options)
    const service = cluster.get('services', 'web')
    expect(service?.spec?.selector).toEqual({ 'ktx.dev/exchange': 'live' })
    expect(service?.metadata?.annotations?.['ktx.dev/lock']).toBe(formatRecord(lockOf('live')))
    expect(service?.metadata?.annotations?.['ktx.dev/original-selector']).toContain('"live"')
    expect(cluster.get('pods', 'ktx-shadow-live')).toBeDefined()
    expect(report.warnings.join('\n')).toMatch(/session live .*took Service web over/)
  })

  it('in scale mode, never scales a workload up under a session that took it after the read', async () => {
    const cluster = new FakeCluster()
    const dead = scaledPair('dead')
    cluster.put('services', dead.service)
    cluster.put('deployments', dead.deployment)
    cluster.putLease('dead', 60)
    cluster.before('readNamespacedLeaseWithHttpInfo', (c) => {
      const live = scaledPair('live')
      c.putLease('live', 0)
      c.put('services', live.service)
      c.put('deployments', live.deployment)
    })
    const report = await recoverService(cluster.kube(), 'web', options)
    const deployment = cluster.get('deployments', 'web')
    expect(deployment?.spec?.replicas).toBe(0)
    expect(deployment?.metadata?.annotations?.['ktx.dev/lock']).toBe(formatRecord(lockOf('live', 'scale')))
    expect(cluster.get('services', 'web')?.metadata?.annotations?.['ktx.dev/lock']).toBe(
      formatRecord(lockOf('live', 'scale')),
    )
    expect(report.workloads).toEqual([])
    expect(report.warnings.join('\n')).toMatch(/session live .*took deployment\/web over/)
  })

  it('in scale mode, leaves a workload its owner scaled during the session and says so', async () => {
    const cluster = new FakeCluster()
    const dead = scaledPair('dead')
    cluster.put('services', dead.service)
    cluster.put('deployments', dead.deployment)
    cluster.edit('deployments', 'web', (d) => {
      d.spec!.replicas = 4
    })
    cluster.putLease('dead', 60)
    const report = await recoverService(cluster.kube(), 'web', options)
    expect(cluster.get('deployments', 'web')?.spec?.replicas).toBe(4)
    expect(cluster.get('deployments', 'web')?.metadata).not.toHaveProperty('annotations')
    expect(report.workloads).toEqual([{ ref: { kind: 'Deployment', name: 'web' }, replicas: 4 }])
    expect(report.warnings.join('\n')).toMatch(
      /deployment\/web has 4 replicas.*left it at 4 instead of putting back 2/,
    )
  })
})
