import { describe, expect, it } from 'vitest'

import { toCleanOptions } from './clean.js'

describe('toCleanOptions', () => {
  it('passes the kube flags and dry run to both halves', () => {
    expect(
      toCleanOptions({
        dryRun: true,
        localOnly: false,
        clusterOnly: false,
        allNamespaces: false,
        context: 'dev',
      }),
    ).toEqual({
      kube: { context: 'dev' },
      dryRun: true,
    })
  })
})
