import { V1MicroTime } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { describeLastAlive, judge } from './liveness.js'

const lease = (renewed: string, seconds: number) => ({
  spec: { renewTime: new V1MicroTime(renewed), leaseDurationSeconds: seconds },
})

describe('judging a session Lease', () => {
  it('is alive until renewTime plus the duration has passed on the server clock', () => {
    const renewed = '2026-11-22T04:00:00.000Z'
    expect(judge(lease(renewed, 60), new Date('2026-11-22T04:00:59.000Z')).alive).toBe(true)
    expect(judge(lease(renewed, 60), new Date('2026-11-22T04:01:00.000Z')).alive).toBe(false)
  })

  it('says when it was last alive', () => {
    const verdict = judge(lease('2026-11-22T04:00:00.000Z', 10), new Date('2026-11-22T04:00:42.000Z'))
    expect(describeLastAlive(verdict)).toBe('last alive 2026-11-22T04:00:00Z (42s ago)')
    expect(describeLastAlive({ alive: false, lastAlive: undefined, now: new Date() })).toMatch(
      /Lease is gone/,
    )
  })

  it('a Lease without times is dead', () => {
    expect(judge({ spec: {} }, new Date()).alive).toBe(false)
  })
})
