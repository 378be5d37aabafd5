import { describe, expect, it } from 'vitest'

import {
  formatRecord,
  readLock,
  readOriginalReplicas,
  readOriginalSelector,
  sameLabels,
  selectorMatches,
} from './redirect-state.js'

const lock = {
  session: 'ab12cd34',
  owner: 'dev@laptop',
  lease: 'ktx-ab12cd34',
  verb: 'exchange' as const,
  mode: 'selector' as const,
  since: '2026-11-22T04:00:00.000Z',
}

describe('redirect records', () => {
  it('round-trip through their annotations', () => {
    expect(readLock({ 'ktx.dev/lock': formatRecord(lock) })).toEqual({ state: 'valid', value: lock })
    const scale = { ...lock, mode: 'scale' as const, workload: { kind: 'Deployment' as const, name: 'web' } }
    expect(readLock({ 'ktx.dev/lock': formatRecord(scale) })).toEqual({ state: 'valid', value: scale })
    const selector = { session: 'ab12cd34', selector: { app: 'web' } }
    expect(readOriginalSelector({ 'ktx.dev/original-selector': formatRecord(selector) })).toEqual({
      state: 'valid',
      value: selector,
    })
    const replicas = { session: 'ab12cd34', replicas: 3, service: 'web' }
    expect(readOriginalReplicas({ 'ktx.dev/original-replicas': formatRecord(replicas) })).toEqual({
      state: 'valid',
      value: replicas,
    })
  })

  it('tell a missing record from one ktx cannot read', () => {
    expect(readLock(undefined)).toEqual({ state: 'absent' })
    expect(readLock({ other: 'x' })).toEqual({ state: 'absent' })
    expect(readLock({ 'ktx.dev/lock': '1700000000' })).toEqual({ state: 'corrupt', raw: '1700000000' })
    expect(readLock({ 'ktx.dev/lock': '{"session":"x"}' }).state).toBe('corrupt')
    expect(
      readOriginalReplicas({ 'ktx.dev/original-replicas': '{"session":"x","replicas":-1,"service":"s"}' })
        .state,
    ).toBe('corrupt')
    expect(
      readOriginalSelector({ 'ktx.dev/original-selector': '{"session":"x","selector":{"a":1}}' }).state,
    ).toBe('corrupt')
  })

  it('compares label maps and selectors', () => {
    expect(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true)
    expect(sameLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false)
    expect(sameLabels(undefined, {})).toBe(true)
    expect(selectorMatches({ app: 'web' }, { app: 'web', tier: 'x' })).toBe(true)
    expect(selectorMatches({ app: 'web' }, { app: 'db' })).toBe(false)
    expect(selectorMatches({}, { app: 'web' })).toBe(false)
  })
})
