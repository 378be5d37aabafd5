import { ApiException, V1MicroTime, type V1Lease, type V1Service } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { isKtxError } from '../../errors.js'
import type { SessionEvent } from '../../events.js'
import { toKubeError } from '../../kube/errors.js'
import { buildPreviewService } from '../../kube/preview-service.js'
import { noopLogger } from '../../logger.js'
import { DEFAULTS } from '../../options.js'
import { fakeKube } from '../../testing/fake-kube.js'
import { createSetupContext } from '../shared/setup.js'
import { claimServiceName } from './claim.js'

// One namespace's Services and Leases, recording every delete.
function cluster(services: V1Service[], leases: V1Lease[] = []) {
  const deleted: string[] = []
  const notFound = (resource: string): never => {
    throw toKubeError(new ApiException(404, 'not found', '{}', {}), { verb: 'get', resource, server: 'fake' })
  }
  const byName = <T extends { metadata?: { name?: string } }>(items: T[], name: string) =>
    items.find((i) => i.metadata?.name === name)
  const kube = fakeKube({
    core: {
      readNamespacedService: ({ name }: { name: string }) =>
        Promise.resolve(byName(services, name) ?? notFound('services')),
      listNamespacedService: ({ labelSelector }: { labelSelector?: string }) =>
        Promise.resolve({
          items: services.filter((s) =>
            (labelSelector ?? '').split(',').every((term) => {
              const [key, value] = term.split('=')
              return key === '' || s.metadata?.labels?.[key!] === value
            }),
          ),
        }),
      deleteNamespacedService: ({ name }: { name: string }) => {
        const service = byName(services, name) ?? notFound('services')
        deleted.push(`service/${name}`)
        services.splice(services.indexOf(service), 1)
        return Promise.resolve({})
      },
      listNamespacedPod: () => Promise.resolve({ items: [] }),
    },
    coordination: {
      readNamespacedLeaseWithHttpInfo: ({ name }: { name: string }) =>
        Promise.resolve({ data: byName(leases, name) ?? notFound('leases'), headers: {} }),
      listNamespacedLease: () => Promise.resolve({ items: [] }),
    },
  })
  return { kube, deleted }
}

function context() {
  const events: SessionEvent[] = []
  const ctx = createSetupContext({
    logger: noopLogger,
    onEvent: (e) => events.push(e),
    signal: undefined,
    timeouts: DEFAULTS.timeouts,
  })
  return { ctx, events }
}

const previewOf = (session: string): V1Service =>
  buildPreviewService({
    name: 'web-preview',
    namespace: 'ns',
    sessionId: session,
    owner: 'ann@laptop',
    type: 'ClusterIP',
    ports: [80],
    ownerReference: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: `ktx-${session}`, uid: 'u' },
  })

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (isKtxError(error)) return `${error.code}: ${error.message}`
    throw error
  }
  throw new Error('expected a KtxError')
}

describe('claimServiceName', () => {
  it('is free when no Service has the name', async () => {
    const { kube, deleted } = cluster([])
    expect(await claimServiceName(context().ctx, kube, 'web-preview')).toEqual({ clusterIP: undefined })
    expect(deleted).toEqual([])
  })

  it('refuses a Service ktx did not make and touches nothing', async () => {
    const { kube, deleted } = cluster([{ metadata: { name: 'web-preview' }, spec: { type: 'ClusterIP' } }])
    expect(await codeOf(claimServiceName(context().ctx, kube, 'web-preview'))).toBe(
      'KTX_SERVICE_EXISTS: A Service "web-preview" already exists in namespace "ns" and was not made by ktx preview',
    )
    expect(deleted).toEqual([])
  })

  it('refuses a live preview, naming its owner and session', async () => {
    const lease: V1Lease = {
      metadata: { name: 'ktx-aaaa1111' },
      spec: { leaseDurationSeconds: 60, renewTime: new V1MicroTime(Date.now() - 5_000) },
    }
    const { kube, deleted } = cluster([previewOf('aaaa1111')], [lease])
    expect(await codeOf(claimServiceName(context().ctx, kube, 'web-preview'))).toMatch(
      /^KTX_SERVICE_LOCKED: Service "web-preview" is already a preview of ann@laptop \(session aaaa1111\), last alive .* \(5s ago\)$/,
    )
    expect(deleted).toEqual([])
  })

  it('takes over a dead preview: deletes its Service, says so, and hands on its ClusterIP', async () => {
    const dead = previewOf('dead0000')
    dead.spec = { ...dead.spec, clusterIP: '10.96.0.42' }
    const { kube, deleted } = cluster([dead])
    const { ctx, events } = context()
    expect(await claimServiceName(ctx, kube, 'web-preview')).toEqual({ clusterIP: '10.96.0.42' })
    expect(deleted).toEqual(['service/web-preview'])
    expect(events).toEqual([
      {
        type: 'warning',
        message:
          'Service web-preview was left by preview session dead0000 of ann@laptop (never seen alive (its Lease is gone)); deleted it and its shadow pod before taking the name over',
      },
    ])
  })
})
