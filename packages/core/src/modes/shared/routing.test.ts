import { PassThrough } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { DialError, type Dialer } from '../../tunnel/dialer.js'
import { Arrivals, confirmRouting } from './routing.js'

// A Service proxy that sends each probe to the shadow (whose listener then reports an arrival) or
// to the old pods, as `landsOnShadow` decides.
function proxy(arrivals: Arrivals, landsOnShadow: (probe: number) => boolean): Dialer & { probes: number } {
  const dialer = {
    probes: 0,
    dial() {
      const probe = dialer.probes++
      if (landsOnShadow(probe)) setImmediate(arrivals.record)
      return Promise.resolve(new PassThrough())
    },
  }
  return dialer
}

const base = { host: '10.96.0.10', port: 80, arrivalWindowMs: 50, signal: new AbortController().signal }

describe('confirmRouting', () => {
  it('waits for ten probes in a row to reach the shadow', async () => {
    const arrivals = new Arrivals()
    const dialer = proxy(arrivals, (n) => n >= 2 && n !== 3)
    expect(await confirmRouting({ ...base, dialer, arrivals, want: 'shadow', timeoutMs: 10_000 })).toBe(
      'confirmed',
    )
    expect(dialer.probes).toBe(14)
  })

  it('confirms the traffic left the shadow once ten probes in a row did not come back', async () => {
    const arrivals = new Arrivals()
    const dialer = proxy(arrivals, (n) => n < 1)
    expect(await confirmRouting({ ...base, dialer, arrivals, want: 'away', timeoutMs: 10_000 })).toBe(
      'confirmed',
    )
    expect(dialer.probes).toBe(11)
  })

  it('gives up (timed-out) when the proxy never agrees within the time', async () => {
    const arrivals = new Arrivals()
    const dialer = proxy(arrivals, () => false)
    expect(await confirmRouting({ ...base, dialer, arrivals, want: 'shadow', timeoutMs: 300 })).toBe(
      'timed-out',
    )
  })

  it('stops at once when the tunnel is gone', async () => {
    const arrivals = new Arrivals()
    const dialer: Dialer = {
      dial: () => Promise.reject(new DialError('10.96.0.10:80: the SSH connection is closed', 'ENOTCONN')),
    }
    const started = Date.now()
    expect(await confirmRouting({ ...base, dialer, arrivals, want: 'away', timeoutMs: 10_000 })).toBe(
      'no-tunnel',
    )
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it('retries probes the proxy refuses', async () => {
    const arrivals = new Arrivals()
    let calls = 0
    const dialer: Dialer = {
      dial() {
        calls += 1
        if (calls <= 2) return Promise.reject(new Error('ECONNREFUSED'))
        setImmediate(arrivals.record)
        return Promise.resolve(new PassThrough())
      },
    }
    expect(await confirmRouting({ ...base, dialer, arrivals, want: 'shadow', timeoutMs: 10_000 })).toBe(
      'confirmed',
    )
    expect(calls).toBe(12)
  })

  it('counts refused probes as away: a Service with no pod behind it does not reach the shadow', async () => {
    const arrivals = new Arrivals()
    let calls = 0
    const dialer: Dialer = {
      dial() {
        calls += 1
        return Promise.reject(new DialError('10.96.0.10:80: connection refused', 'ECONNREFUSED'))
      },
    }
    const started = Date.now()
    expect(await confirmRouting({ ...base, dialer, arrivals, want: 'away', timeoutMs: 10_000 })).toBe(
      'confirmed',
    )
    expect(calls).toBe(10)
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
