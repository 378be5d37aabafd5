import { describe, expect, it } from 'vitest'

import { toExchangeOptions } from './exchange.js'

describe('toExchangeOptions', () => {
  it('keeps unset flags unset so core defaults and the context namespace apply', () => {
    expect(toExchangeOptions('web', { expose: '3000:8080', mode: 'selector' })).toEqual({
      target: 'web',
      expose: '3000:8080',
      mode: 'selector',
      kube: {},
    })
  })

  it('maps every flag, seconds to milliseconds', () => {
    expect(
      toExchangeOptions('deploy/web', {
        expose: '3000:8080,90',
        mode: 'scale',
        kubeconfig: '/k',
        context: 'dev',
        namespace: 'team-a',
        image: 'localhost/ktx-shadow:dev',
        podCreationTimeout: 30,
        recoverWaitTime: 45,
        leaseDuration: 12,
      }),
    ).toEqual({
      target: 'deploy/web',
      expose: '3000:8080,90',
      mode: 'scale',
      kube: { kubeconfig: '/k', context: 'dev', namespace: 'team-a' },
      image: 'localhost/ktx-shadow:dev',
      leaseDurationSeconds: 12,
      timeouts: { podReadyMs: 30_000, recoverWaitMs: 45_000 },
    })
  })
})
