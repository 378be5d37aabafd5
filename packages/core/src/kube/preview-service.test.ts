import { describe, expect, it } from 'vitest'

import { buildPreviewService, originOf } from './preview-service.js'

const spec = {
  name: 'web-preview',
  namespace: 'team-a',
  sessionId: 'abc12345',
  owner: 'dev@laptop',
  type: 'ClusterIP' as const,
  ports: [80, 9090],
  ownerReference: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'ktx-abc12345', uid: 'u-1' },
}

describe('buildPreviewService', () => {
  it('selects only the session shadow, one port per remote port (port = targetPort)', () => {
    const service = buildPreviewService(spec)
    expect(service.metadata?.name).toBe('web-preview')
    expect(service.metadata?.namespace).toBe('team-a')
    expect(service.spec?.type).toBe('ClusterIP')
    expect(service.spec?.selector).toEqual({ 'ktx.dev/preview': 'abc12345' })
    expect(service.spec?.ports).toEqual([
      { name: 'port-80', port: 80, targetPort: 80, protocol: 'TCP' },
      { name: 'port-9090', port: 9090, targetPort: 9090, protocol: 'TCP' },
    ])
  })

  it('is labelled as ktx preview of the session and owned by its Lease', () => {
    const service = buildPreviewService(spec)
    expect(service.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'ktx',
      'ktx.dev/session': 'abc12345',
      'ktx.dev/role': 'preview',
    })
    expect(service.metadata?.annotations).toEqual({ 'ktx.dev/owner': 'dev@laptop' })
    expect(service.metadata?.ownerReferences).toEqual([spec.ownerReference])
  })

  it('asks for a given ClusterIP (a taken-over Service keeps its address), else lets the cluster pick', () => {
    expect(buildPreviewService(spec).spec).not.toHaveProperty('clusterIP')
    expect(buildPreviewService({ ...spec, clusterIP: '10.96.0.42' }).spec?.clusterIP).toBe('10.96.0.42')
  })

  it('is a LoadBalancer for --external', () => {
    expect(buildPreviewService({ ...spec, type: 'LoadBalancer' }).spec?.type).toBe('LoadBalancer')
  })
})

describe('originOf', () => {
  it('knows its own preview Services and their session and owner', () => {
    expect(originOf(buildPreviewService(spec))).toEqual({
      kind: 'preview',
      session: 'abc12345',
      owner: 'dev@laptop',
    })
  })

  it('calls anything else foreign: a plain Service, a half-labelled one, another ktx role', () => {
    const labels = buildPreviewService(spec).metadata?.labels ?? {}
    expect(originOf({ metadata: { name: 'web' } })).toEqual({ kind: 'foreign' })
    expect(originOf({ metadata: { labels: { 'ktx.dev/role': 'preview', 'ktx.dev/session': 'x' } } })).toEqual(
      {
        kind: 'foreign',
      },
    )
    expect(originOf({ metadata: { labels: { ...labels, 'ktx.dev/role': 'exchange' } } })).toEqual({
      kind: 'foreign',
    })
    const { ['ktx.dev/session']: _session, ...noSession } = labels
    expect(originOf({ metadata: { labels: noSession } })).toEqual({ kind: 'foreign' })
  })
})
