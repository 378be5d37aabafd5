import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { V1Pod, V1Service } from '@kubernetes/client-node'
import { describe, expect, it, vi } from 'vitest'

import { realHost } from '../../host/host.js'
import { sessionsDir } from '../../host/local-sessions.js'
import { heldServices } from './cluster.js'
import { type SessionFacts, localRecordOf, localStatus, trackLocalSession } from './local.js'

const managed = { 'app.kubernetes.io/managed-by': 'ktx' }

describe('heldServices', () => {
  it('finds exchanged Services by their lock, previews and mesh Services by label, routers by owner', () => {
    const services: V1Service[] = [
      {
        metadata: {
          name: 'web',
          annotations: {
            'ktx.dev/lock': JSON.stringify({
              session: 'aaaa0001',
              owner: 'u@h',
              lease: 'ktx-aaaa0001',
              verb: 'exchange',
              mode: 'selector',
              since: '2026-01-01T00:00:00Z',
            }),
          },
        },
      },
      {
        metadata: {
          name: 'pr-1',
          labels: { ...managed, 'ktx.dev/session': 'bbbb0002', 'ktx.dev/role': 'preview' },
        },
      },
      { metadata: { name: 'api', annotations: { 'ktx.dev/lock': '{broken' } } },
      { metadata: { name: 'plain' } },
    ]
    const pods: V1Pod[] = [
      {
        metadata: {
          name: 'router',
          labels: { ...managed, 'ktx.dev/role': 'router', 'ktx.dev/mesh-group': 'shop' },
          ownerReferences: [
            { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'ktx-cccc0003', uid: '1' },
            { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'ktx-dddd0004', uid: '2' },
            { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'someone-else', uid: '3' },
          ],
        },
      },
    ]
    const leases = new Map([
      ['ktx-aaaa0001', 'aaaa0001'],
      ['ktx-bbbb0002', 'bbbb0002'],
      ['ktx-cccc0003', 'cccc0003'],
      ['ktx-dddd0004', 'dddd0004'],
    ])
    expect(Object.fromEntries(heldServices(services, pods, leases))).toEqual({
      aaaa0001: [{ how: 'exchanged', service: 'web' }],
      bbbb0002: [{ how: 'previewed', service: 'pr-1' }],
      cccc0003: [{ how: 'meshed', service: 'shop' }],
      dddd0004: [{ how: 'meshed', service: 'shop' }],
    })
  })
})

const ended = new Promise<never>(() => undefined)
const connect: SessionFacts = {
  id: 'c0ffee01',
  kind: 'connect',
  namespace: 'team',
  ended,
  socks: { host: '127.0.0.1', port: 1080, url: 'socks5h://127.0.0.1:1080' },
  http: { host: '127.0.0.1', port: 8118, url: 'http://127.0.0.1:8118' },
}

describe('localRecordOf', () => {
  it('names the proxies of a connect and the Service and ports of the others', () => {
    const now = new Date('2026-01-01T00:00:00Z')
    expect(localRecordOf(connect, now)).toEqual({
      id: 'c0ffee01',
      verb: 'connect',
      namespace: 'team',
      target: 'socks',
      ports: ['socks 1080', 'http 8118'],
      startedAt: '2026-01-01T00:00:00.000Z',
    })
    const mesh = localRecordOf(
      {
        id: 'm',
        kind: 'mesh',
        namespace: 'team',
        ended,
        service: 'shop',
        mark: { header: 'version', value: 'v2' },
        expose: [{ local: 3000, remote: 80 }],
      },
      now,
    )
    expect(mesh).toMatchObject({ target: 'shop (version=v2)', ports: ['3000→80'] })
  })
})

describe('the local register', () => {
  it('lists a tracked session until it ends, then nothing', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ktx-status-'))
    let end: (value: { reason: 'closed' }) => void = () => undefined
    const session = {
      ...connect,
      ended: new Promise<{ reason: 'closed' }>((resolve) => (end = resolve)),
      close: () => Promise.resolve(),
    }
    const file = await trackLocalSession(session, { stateDir })
    const report = await localStatus({ stateDir, now: new Date(Date.now() + 65_000) })
    expect(report.sessions).toHaveLength(1)
    expect(report.sessions[0]).toMatchObject({
      id: 'c0ffee01',
      state: 'ready',
      process: { pid: process.pid },
    })
    expect(report.sessions[0]!.uptimeSeconds).toBeGreaterThanOrEqual(64)
    await file.setState('closing')
    expect((await localStatus({ stateDir })).sessions[0]?.state).toBe('closing')
    end({ reason: 'closed' })
    await vi.waitFor(async () => expect(await localStatus({ stateDir })).toEqual({ sessions: [], stale: [] }))
  })

  it('reports and removes the record of a process that is gone (a reused pid does not count)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ktx-status-'))
    const session = { ...connect, close: () => Promise.resolve() }
    const file = await trackLocalSession(session, { stateDir, host: realHost() })
    // The same pid with another start time: what a killed ktx whose pid was reused looks like.
    const record = JSON.parse(readFileSync(file.path, 'utf8')) as Record<string, unknown>
    writeFileSync(
      join(sessionsDir(stateDir), 'dead0001.json'),
      JSON.stringify({ ...record, id: 'dead0001', process: { pid: process.pid, startedAt: '1' } }),
    )
    const report = await localStatus({ stateDir })
    expect(report.sessions.map((s) => s.id)).toEqual(['c0ffee01'])
    expect(report.stale.map((s) => s.id)).toEqual(['dead0001'])
    expect(readdirSync(sessionsDir(stateDir))).toEqual(['c0ffee01.json'])
    await file.close()
  })
})
