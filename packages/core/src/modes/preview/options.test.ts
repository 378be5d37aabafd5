import { describe, expect, it } from 'vitest'

import { isKtxError } from '../../errors.js'
import { checkServiceName, resolvePreviewOptions } from './options.js'

function usageMessage(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isKtxError(error) && error.category === 'usage') return error.message
    throw error
  }
  throw new Error('expected a UsageError')
}

describe('resolvePreviewOptions', () => {
  it('fills defaults: ClusterIP, loopback, the endpoints timeout; frozen', () => {
    const opts = resolvePreviewOptions({ name: 'web-preview', expose: '3000:80,9090', owner: 'me@here' })
    expect(opts.name).toBe('web-preview')
    expect(opts.expose).toEqual([
      { local: 3000, remote: 80 },
      { local: 9090, remote: 9090 },
    ])
    expect(opts.external).toBe(false)
    expect(opts.localHost).toBe('127.0.0.1')
    expect(opts.timeouts.endpointsMs).toBe(60_000)
    expect(opts.timeouts.podReadyMs).toBe(120_000)
    expect(opts.owner).toBe('me@here')
    expect(Object.isFrozen(opts)).toBe(true)
  })

  it('takes --external, pairs as data and a timeout override', () => {
    const opts = resolvePreviewOptions({
      name: 'p',
      expose: [{ local: 1, remote: 2 }],
      external: true,
      timeouts: { endpointsMs: 5_000 },
    })
    expect(opts.external).toBe(true)
    expect(opts.expose).toEqual([{ local: 1, remote: 2 }])
    expect(opts.timeouts.endpointsMs).toBe(5_000)
  })

  it('rejects a bad --expose, a bad timeout and a short lease, naming them', () => {
    expect(usageMessage(() => resolvePreviewOptions({ name: 'p', expose: '3000:80,3001:80' }))).toMatch(
      /remote port 80 twice/,
    )
    expect(usageMessage(() => resolvePreviewOptions({ name: 'p', expose: [] }))).toMatch(/at least one port/)
    expect(
      usageMessage(() => resolvePreviewOptions({ name: 'p', expose: '1', timeouts: { endpointsMs: 0 } })),
    ).toMatch(/timeouts.endpointsMs/)
    expect(
      usageMessage(() => resolvePreviewOptions({ name: 'p', expose: '1', leaseDurationSeconds: 3 })),
    ).toMatch(/leaseDurationSeconds/)
  })
})

describe('the Service name', () => {
  it('accepts DNS-1035 labels', () => {
    for (const name of ['a', 'web', 'web-preview-2', 'x'.repeat(63)])
      expect(checkServiceName(name)).toBe(name)
  })

  it('refuses what the API server would refuse, saying what a name may be', () => {
    for (const name of ['', 'Web', '2web', 'web-', 'web.preview', 'web_preview', 'x'.repeat(64)]) {
      expect(usageMessage(() => checkServiceName(name))).toBe(`"${name}" cannot be a Service name`)
    }
  })
})
