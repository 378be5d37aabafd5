import { describe, expect, it } from 'vitest'

import type { Workload } from '../../kube/workload.js'
import { judgeDrift } from './workload-drift.js'

const lock = (session: string): string =>
  JSON.stringify({
    session,
    owner: 'ann@laptop',
    lease: `ktx-${session}`,
    verb: 'exchange',
    mode: 'scale',
    since: '2026-12-03T10:00:00.000Z',
    workload: { kind: 'StatefulSet', name: 'db' },
  })

const workload = (changes: Partial<Workload> = {}): Workload => ({
  ref: { kind: 'StatefulSet', name: 'db' },
  replicas: 0,
  templateLabels: { app: 'db' },
  podSpec: undefined,
  annotations: { 'ktx.dev/lock': lock('aaaa') },
  metadata: { resourceVersion: '7' },
  uid: 'uid-1',
  deleting: false,
  ...changes,
})

const scaled = { workload: workload({ replicas: 2 }), session: 'aaaa' }

describe('judgeDrift (scale mode keeps its workload at 0)', () => {
  it("leaves a workload that is still at 0 under this session's lock (a rollout restart at 0 changes only the template)", () => {
    expect(judgeDrift(scaled, workload())).toEqual({ action: 'none' })
    expect(judgeDrift(scaled, workload({ templateLabels: { app: 'db', restarted: 'x' } }))).toEqual({
      action: 'none',
    })
  })

  it('re-scales when the replicas came back and the lock is still there (kubectl scale or apply, an autoscaler)', () => {
    expect(judgeDrift(scaled, workload({ replicas: 3 }))).toEqual({ action: 'rescale', found: 3 })
  })

  it('ends the session when the workload is deleted, being deleted, or replaced', () => {
    expect(judgeDrift(scaled, undefined)).toEqual({
      action: 'end',
      message: 'statefulset/db was deleted while this session ran; this exchange has ended',
    })
    expect(judgeDrift(scaled, workload({ deleting: true })).action).toBe('end')
    expect(judgeDrift(scaled, workload({ uid: 'uid-2', replicas: 2 }))).toEqual({
      action: 'end',
      message: 'statefulset/db was deleted and created again while this session ran; this exchange has ended',
    })
  })

  it("ends the session when the lock was removed or is another session's, even at 0 replicas", () => {
    expect(judgeDrift(scaled, workload({ annotations: {} }))).toEqual({
      action: 'end',
      message:
        "statefulset/db lost this session's ktx.dev/lock annotation (removed by hand, a replace, or ktx recover --force); this exchange has ended",
    })
    const corrupt = judgeDrift(scaled, workload({ annotations: { 'ktx.dev/lock': '{' } }))
    expect(corrupt.action).toBe('end')
    expect(
      judgeDrift(scaled, workload({ annotations: { 'ktx.dev/lock': lock('bbbb') }, replicas: 2 })),
    ).toEqual({
      action: 'end',
      message: 'statefulset/db was taken over by ann@laptop (session bbbb); this exchange has ended',
    })
  })
})
