import { describe, expect, it } from 'vitest'

import { isKtxError } from '../../errors.js'
import { parseVersionMark } from './mark.js'

const fixed = (): string => 'r4nd0m00'

describe('parseVersionMark', () => {
  it('reads the forms ktctl accepts', () => {
    expect(parseVersionMark('alice', fixed)).toEqual({ header: 'version', value: 'alice' })
    expect(parseVersionMark('x-dev:alice', fixed)).toEqual({ header: 'x-dev', value: 'alice' })
    expect(parseVersionMark('x-dev:', fixed)).toEqual({ header: 'x-dev', value: 'r4nd0m00' })
    expect(parseVersionMark(undefined, fixed)).toEqual({ header: 'version', value: 'r4nd0m00' })
  })

  it('makes a different random value each time by default', () => {
    const a = parseVersionMark(undefined).value
    const b = parseVersionMark(undefined).value
    expect(a).toMatch(/^[0-9a-f]{8}$/)
    expect(a).not.toBe(b)
  })

  it('refuses what cannot be a header and a label', () => {
    for (const bad of ['has space', 'a:b:c', ':x', 'k:-x', 'k:x\r\nInjected: 1', `k:${'v'.repeat(64)}`]) {
      let caught: unknown
      try {
        parseVersionMark(bad, fixed)
      } catch (error) {
        caught = error
      }
      expect(isKtxError(caught) && caught.code, bad).toBe('KTX_OPTION_INVALID')
    }
  })
})
