import { describe, expect, it } from 'vitest'

import { isKtxError } from '../../errors.js'
import { parseExpose } from '../shared/expose.js'
import { parseTarget, resolveExchangeOptions } from './options.js'

function usageMessage(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isKtxError(error) && error.category === 'usage') return error.message
    throw error
  }
  throw new Error('expected a UsageError')
}

describe('--expose', () => {
  it('reads local:remote pairs and bare ports', () => {
    expect(parseExpose('3000:80, 9090')).toEqual([
      { local: 3000, remote: 80 },
      { local: 9090, remote: 9090 },
    ])
  })

  it('rejects malformed entries, out-of-range ports and a remote port given twice', () => {
    expect(usageMessage(() => parseExpose('3000:'))).toMatch(/"3000:" is not "port" or "local:remote"/)
    expect(usageMessage(() => parseExpose('1,,2'))).toMatch(/empty entry/)
    expect(usageMessage(() => parseExpose('0:80'))).toMatch(/local port 0/)
    expect(usageMessage(() => parseExpose('3000:70000'))).toMatch(/remote port 70000/)
    expect(usageMessage(() => parseExpose('3000:80,3001:80'))).toMatch(/remote port 80 twice/)
  })
})

describe('exchange target', () => {
  it('takes a bare Service name and kubectl kind prefixes', () => {
    expect(parseTarget('web')).toEqual({ kind: 'Service', name: 'web' })
    expect(parseTarget('svc/web')).toEqual({ kind: 'Service', name: 'web' })
    expect(parseTarget('deploy/web')).toEqual({ kind: 'Deployment', name: 'web' })
    expect(parseTarget('StatefulSet/db')).toEqual({ kind: 'StatefulSet', name: 'db' })
  })

  it('rejects unknown kinds and invalid names', () => {
    expect(usageMessage(() => parseTarget('pod/web'))).toMatch(/unknown kind "pod"/)
    expect(usageMessage(() => parseTarget('svc/Web_1'))).toMatch(/not a valid object name/)
  })
})

describe('resolveExchangeOptions', () => {
  it('fills defaults: selector mode, loopback, exchange timeouts', () => {
    const opts = resolveExchangeOptions({ target: 'web', expose: '8080', owner: 'me@here' })
    expect(opts.mode).toBe('selector')
    expect(opts.localHost).toBe('127.0.0.1')
    expect(opts.timeouts.recoverWaitMs).toBe(120_000)
    expect(opts.timeouts.endpointsMs).toBe(60_000)
    expect(Object.isFrozen(opts)).toBe(true)
  })

  it('rejects an unknown mode and a lease shorter than 10 s', () => {
    expect(
      usageMessage(() =>
        resolveExchangeOptions({ target: 'web', expose: '1', mode: 'ephemeral' as 'scale' }),
      ),
    ).toMatch(/Unknown exchange mode "ephemeral"/)
    expect(
      usageMessage(() => resolveExchangeOptions({ target: 'web', expose: '1', leaseDurationSeconds: 5 })),
    ).toMatch(/leaseDurationSeconds/)
  })
})
