import { describe, expect, it } from 'vitest'

import { toPreviewOptions } from './preview.js'

describe('toPreviewOptions', () => {
  it('keeps unset flags unset so core defaults and the context namespace apply', () => {
    expect(toPreviewOptions('web-preview', { expose: '3000:80', external: false })).toEqual({
      name: 'web-preview',
      expose: '3000:80',
      external: false,
      kube: {},
    })
  })

  it('maps every flag, seconds to milliseconds', () => {
    expect(
      toPreviewOptions('p', {
        expose: '3000:80,9090',
        external: true,
        kubeconfig: '/k',
        context: 'dev',
        namespace: 'team-a',
        image: 'localhost/ktx-shadow:dev',
        podCreationTimeout: 30,
        leaseDuration: 12,
      }),
    ).toEqual({
      name: 'p',
      expose: '3000:80,9090',
      external: true,
      kube: { kubeconfig: '/k', context: 'dev', namespace: 'team-a' },
      image: 'localhost/ktx-shadow:dev',
      leaseDurationSeconds: 12,
      timeouts: { podReadyMs: 30_000 },
    })
  })
})
