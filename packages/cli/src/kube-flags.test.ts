import type { ExchangeTimeouts } from '@ktx/core'
import { describe, expect, it } from 'vitest'

import { toBaseOptions, toKubeOptions } from './kube-flags.js'

describe('toKubeOptions', () => {
  it('keeps only the kube flags that were set', () => {
    expect(toKubeOptions({ namespace: 'team-a', context: undefined })).toEqual({ namespace: 'team-a' })
  })
})

describe('toBaseOptions', () => {
  it('maps image and lease duration, and seconds to milliseconds beside the verb’s own timeouts', () => {
    expect(
      toBaseOptions<ExchangeTimeouts>(
        { kubeconfig: '/k', image: 'img:1', podCreationTimeout: 7, reconnectTimeout: 90, leaseDuration: 30 },
        { recoverWaitMs: 5000 },
      ),
    ).toEqual({
      kube: { kubeconfig: '/k' },
      image: 'img:1',
      leaseDurationSeconds: 30,
      timeouts: { podReadyMs: 7000, reconnectMs: 90_000, recoverWaitMs: 5000 },
    })
  })

  it('leaves timeouts out when none was set, so core’s defaults apply', () => {
    expect(toBaseOptions({})).toEqual({ kube: {} })
  })
})
