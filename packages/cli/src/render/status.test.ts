import { describe, expect, it } from 'vitest'

import { formatDuration, renderClusterStatus, renderLocalStatus } from './status.js'

describe('renderLocalStatus', () => {
  it('prints one row per session and says what it removed', () => {
    const lines = renderLocalStatus({
      sessions: [
        {
          id: 'c0ffee01',
          verb: 'connect',
          namespace: 'team',
          target: 'socks',
          ports: ['socks 1080', 'http 8118'],
          startedAt: '2026-01-01T00:00:00Z',
          state: 'ready',
          process: { pid: 42, startedAt: '1' },
          uptimeSeconds: 3725,
        },
      ],
      stale: [
        {
          id: 'dead0001',
          verb: 'exchange',
          namespace: 'team',
          target: 'web',
          ports: [],
          startedAt: '2026-01-01T00:00:00Z',
          state: 'ready',
          process: { pid: 7, startedAt: '1' },
        },
      ],
    })
    expect(lines[0]).toMatch(/^SESSION\s+VERB\s+NAMESPACE\s+TARGET\s+PORTS\s+UPTIME\s+STATE\s+PID$/)
    expect(lines[1]).toMatch(
      /^c0ffee01\s+connect\s+team\s+socks\s+socks 1080, http 8118\s+1h02m\s+ready\s+42$/,
    )
    expect(lines[2]).toContain('ktx clean -n team')
  })

  it('says when nothing runs', () => {
    expect(renderLocalStatus({ sessions: [], stale: [] })).toEqual(['No ktx session runs on this machine.'])
  })
})

describe('renderClusterStatus', () => {
  it('shows owner, liveness, renewal age and holdings, and points dead sessions at ktx clean', () => {
    const lines = renderClusterStatus({
      namespace: 'team',
      now: '2026-01-01T00:01:00Z',
      sessions: [
        {
          id: 'aaaa0001',
          lease: 'ktx-aaaa0001',
          owner: 'ann@laptop',
          host: 'laptop',
          verb: 'exchange',
          lastRenewal: '2026-01-01T00:00:55Z',
          alive: true,
          sinceRenewalSeconds: 5,
          holds: [{ how: 'exchanged', service: 'web' }],
          pods: ['ktx-exchange-aaaa0001'],
        },
        {
          id: 'bbbb0002',
          lease: 'ktx-bbbb0002',
          owner: 'bob@desk',
          host: 'desk',
          verb: 'connect',
          lastRenewal: '2026-01-01T00:00:00Z',
          alive: false,
          sinceRenewalSeconds: 125,
          holds: [],
          pods: [],
        },
      ],
    })
    expect(lines[2]).toMatch(/^aaaa0001\s+exchange\s+ann@laptop\s+alive\s+5s ago\s+exchanged web$/)
    expect(lines[3]).toMatch(/^bbbb0002\s+connect\s+bob@desk\s+dead\s+2m05s ago\s+-$/)
    expect(lines.at(-1)).toBe('Dead sessions left objects behind: ktx clean -n team')
  })

  it('formats durations', () => {
    expect([formatDuration(0), formatDuration(61), formatDuration(7200)]).toEqual(['0s', '1m01s', '2h00m'])
  })
})
