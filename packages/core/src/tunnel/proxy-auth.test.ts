import { describe, expect, it } from 'vitest'

import {
  acceptsBasic,
  basicAuthorization,
  credentialsMatch,
  generateCredentials,
  urlWithCredentials,
} from './proxy-auth.js'

const credentials = { username: 'ktx', password: 's3cret:x' }

describe('proxy credentials', () => {
  it('are fresh for every session', () => {
    const a = generateCredentials()
    const b = generateCredentials()
    expect(a.username).toBe('ktx')
    expect(a.password).toMatch(/^[\w-]{22}$/)
    expect(a.password).not.toBe(b.password)
  })

  it('match only the same username and password', () => {
    expect(credentialsMatch(credentials, 'ktx', 's3cret:x')).toBe(true)
    expect(credentialsMatch(credentials, 'ktx', 's3cret')).toBe(false)
    expect(credentialsMatch(credentials, 'other', 's3cret:x')).toBe(false)
  })

  it('round-trip through Proxy-Authorization: Basic (a colon in the password included)', () => {
    expect(acceptsBasic(basicAuthorization(credentials), credentials)).toBe(true)
    expect(acceptsBasic(basicAuthorization({ ...credentials, password: 'wrong' }), credentials)).toBe(false)
    expect(acceptsBasic(undefined, credentials)).toBe(false)
    expect(acceptsBasic('Bearer abc', credentials)).toBe(false)
  })

  it('go into a proxy URL percent-encoded', () => {
    expect(urlWithCredentials('socks5h://127.0.0.1:1080', credentials)).toBe(
      'socks5h://ktx:s3cret%3Ax@127.0.0.1:1080',
    )
    expect(urlWithCredentials('http://127.0.0.1:3128', undefined)).toBe('http://127.0.0.1:3128')
  })
})
