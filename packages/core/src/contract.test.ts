import { describe, expect, it } from 'vitest'

import { errorCodeOfOpenFailure, openFailureDescription } from './contract.js'

describe('open-failure descriptions', () => {
  it('round-trips the Node error code', () => {
    const description = openFailureDescription('ECONNREFUSED', 'connect ECONNREFUSED 10.96.0.1:80')
    expect(description).toBe('ECONNREFUSED connect ECONNREFUSED 10.96.0.1:80')
    expect(errorCodeOfOpenFailure(description)).toBe('ECONNREFUSED')
    expect(errorCodeOfOpenFailure('ENOTFOUND getaddrinfo ENOTFOUND web')).toBe('ENOTFOUND')
  })

  it('has no code for a plain message or an empty description', () => {
    expect(openFailureDescription(undefined, 'nope')).toBe('nope')
    expect(errorCodeOfOpenFailure('nope')).toBeUndefined()
    expect(errorCodeOfOpenFailure('')).toBeUndefined()
  })
})
