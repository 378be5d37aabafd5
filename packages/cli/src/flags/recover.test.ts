import { describe, expect, it } from 'vitest'

import { toRecoverOptions } from './recover.js'

describe('toRecoverOptions', () => {
  it('maps the wait to milliseconds, 0 meaning do not wait', () => {
    expect(toRecoverOptions('web', { force: true, recoverWaitTime: 0, namespace: 'a' })).toEqual({
      service: 'web',
      force: true,
      waitMs: 0,
      kube: { namespace: 'a' },
    })
  })
})
