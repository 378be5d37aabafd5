import { describe, expect, it } from 'vitest'

import { renderPreviewReady } from './preview.js'

describe('renderPreviewReady', () => {
  const session = {
    namespace: 'team-a',
    service: 'web-preview',
    type: 'ClusterIP' as const,
    clusterIP: '10.96.0.42',
    pod: 'ktx-preview-web-preview-abc12345',
    expose: [
      { local: 3000, remote: 80 },
      { local: 9090, remote: 9090 },
    ],
  }

  it('names the Service, where callers dial it and which local port answers', () => {
    expect(renderPreviewReady(session)).toEqual([
      'Preview: Service team-a/web-preview (ClusterIP 10.96.0.42) is answered by this machine (shadow pod ktx-preview-web-preview-abc12345)',
      '  web-preview.team-a:80 → localhost:3000',
      '  web-preview.team-a:9090 → localhost:9090',
      '',
      'Press Ctrl+C to delete the Service.',
    ])
  })

  it('says where a LoadBalancer’s external address will show', () => {
    const lines = renderPreviewReady({ ...session, type: 'LoadBalancer' })
    expect(lines[0]).toContain('(LoadBalancer, ClusterIP 10.96.0.42)')
    expect(lines).toContain(
      '  its external address, once the cloud assigns one: kubectl get service -n team-a web-preview',
    )
  })
})
