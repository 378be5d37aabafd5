import type { V1Service } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { PermissionError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { Session } from '../../session.js'
import { formatRecord } from '../../kube/redirect-state.js'
import { FakeCluster } from '../../testing/fake-cluster.js'
import { fakeKube } from '../../testing/fake-kube.js'
import { quietClean, withQuietClean } from './quiet.js'

function exchangedBy(session: string): V1Service {
  return {
    metadata: {
      name: 'web',
      annotations: {
        'ktx.dev/lock': formatRecord({
          session,
          owner: `${session}@laptop`,
          lease: `ktx-${session}`,
          verb: 'exchange',
          mode: 'selector',
          since: '2026-11-22T04:00:00.000Z',
        }),
        'ktx.dev/original-selector': formatRecord({ session, selector: { app: 'web' } }),
      },
    },
    spec: { selector: { 'ktx.dev/exchange': session }, ports: [{ port: 80 }] },
  }
}

function liveSession(): Session & { end(): void } {
  let end = (): void => undefined
  const ended = new Promise<{ reason: 'closed' }>((resolve) => (end = () => resolve({ reason: 'closed' })))
  return {
    id: 'live',
    kind: 'connect',
    state: 'ready',
    namespace: 'ns',
    ended,
    close: () => Promise.resolve(),
    destroy: () => undefined,
    [Symbol.asyncDispose]: () => Promise.resolve(),
    end,
  } as unknown as Session & { end(): void }
}

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => logger,
  }
  return logger
}

describe('the quiet clean after a verb is ready', () => {
  it("puts back a Service a dead session left, deletes its objects, leaves the new session's, and says so", async () => {
    const cluster = new FakeCluster()
    cluster.putLease('dead', 60)
    cluster.putPod('dead')
    cluster.put('services', exchangedBy('dead'))
    cluster.putLease('live', 0)
    cluster.putPod('live')
    const lines: string[] = []
    const report = await quietClean(liveSession(), { kube: cluster.kube(), logger: recordingLogger(lines) })
    expect(report).toMatchObject({
      deadSessions: ['dead'],
      liveSessions: ['live'],
      restoredServices: ['web'],
    })
    expect(cluster.get('services', 'web')?.spec?.selector).toEqual({ app: 'web' })
    expect(cluster.get('leases', 'ktx-dead')).toBeUndefined()
    expect(cluster.get('pods', 'ktx-shadow-live')).toBeDefined()
    expect(lines).toContain(
      'warn Cleaned what 1 dead ktx session(s) left in namespace ns: restored service/web',
    )
  })

  it('without the rights to list Leases: goes without, never rejects', async () => {
    const kube = fakeKube({
      coordination: {
        listNamespacedLeaseWithHttpInfo: () =>
          Promise.reject(new PermissionError('KTX_KUBE_FORBIDDEN', 'Not allowed to list leases', {})),
      },
    })
    const lines: string[] = []
    expect(await quietClean(liveSession(), { kube, logger: recordingLogger(lines) })).toBeUndefined()
    expect(lines).toEqual(['debug Quiet clean skipped'])
  })

  it('resolves with the session before the clean is done', async () => {
    const session = liveSession()
    let listed = false
    const kube = fakeKube({
      coordination: {
        listNamespacedLeaseWithHttpInfo: () => {
          listed = true
          return new Promise(() => undefined)
        },
      },
    })
    expect(await withQuietClean(() => Promise.resolve(session), { kube })).toBe(session)
    expect(listed).toBe(true)
    session.end()
  })
})
