import { ApiException, V1MicroTime, type V1Lease, type V1Service } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { fakeKube } from '../testing/fake-kube.js'
import type { Kube } from './client.js'
import { toKubeError } from './errors.js'
import type { PatchOp } from './json-patch.js'
import { type LockRecord, formatRecord } from './redirect-state.js'
import { repointService, restoreService, switchSelector, takeServiceLock } from './service-lock.js'

// An API server for one namespace's Services and Leases: JSON patches are applied the way the real
// one does it, including the resourceVersion check that turns a stale write into 409 Conflict.
class FakeApi {
  readonly services = new Map<string, V1Service>()
  readonly leases = new Map<string, V1Lease>()
  patches = 0
  #version = 100

  addService(name: string, spec: NonNullable<V1Service['spec']>, annotations?: Record<string, string>): void {
    this.services.set(name, {
      metadata: {
        name,
        namespace: 'ns',
        resourceVersion: String(this.#version++),
        ...(annotations ? { annotations } : {}),
      },
      spec,
    })
  }

  addLease(name: string, renewedSecondsAgo: number): void {
    this.leases.set(name, {
      metadata: { name },
      spec: { leaseDurationSeconds: 30, renewTime: new V1MicroTime(Date.now() - renewedSecondsAgo * 1000) },
    })
  }

  kube(): Kube {
    const notFound = (what: string): never => {
      throw toKubeError(new ApiException(404, `${what} not found`, '{}', {}), {
        verb: 'get',
        resource: what,
        server: 'fake',
      })
    }
    const core = {
      readNamespacedService: ({ name }: { name: string }) =>
        Promise.resolve(structuredClone(this.services.get(name) ?? notFound('services'))),
      listNamespacedService: () => Promise.resolve({ items: [...this.services.values()] }),
      patchNamespacedService: ({ name, body }: { name: string; body: PatchOp[] }) => {
        const stored = this.services.get(name) ?? notFound('services')
        const next = applyPatch(stored, body)
        if (next.metadata?.resourceVersion !== stored.metadata?.resourceVersion) {
          throw toKubeError(new ApiException(409, 'Conflict', '{"reason":"Conflict"}', {}), {
            verb: 'patch',
            resource: 'services',
            server: 'fake',
          })
        }
        next.metadata = { ...next.metadata, resourceVersion: String(this.#version++) }
        this.services.set(name, next)
        this.patches += 1
        return Promise.resolve(structuredClone(next))
      },
    }
    const coordination = {
      readNamespacedLeaseWithHttpInfo: ({ name }: { name: string }) =>
        Promise.resolve({ data: this.leases.get(name) ?? notFound('leases'), headers: {} }),
    }
    return fakeKube({ core, coordination })
  }
}

function applyPatch<T>(object: T, ops: readonly PatchOp[]): T {
  const root = structuredClone(object) as Record<string, unknown>
  for (const op of ops) {
    const keys = op.path
      .split('/')
      .slice(1)
      .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'))
    const last = keys.pop() ?? ''
    let parent = root
    for (const key of keys) parent = parent[key] as Record<string, unknown>
    if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`remove: ${op.path} does not exist`)
      Reflect.deleteProperty(parent, last)
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`replace: ${op.path} does not exist`)
      parent[last] = structuredClone(op.value)
    }
  }
  return root as T
}

const spec = { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] }
const lockOf = (session: string): LockRecord => ({
  session,
  owner: `${session}@laptop`,
  lease: `ktx-${session}`,
  verb: 'exchange',
  mode: 'selector',
  since: '2026-11-22T04:00:00.000Z',
})

describe('the Service lock', () => {
  it('is taken in one guarded write that also saves the original selector', async () => {
    const api = new FakeApi()
    api.addService('web', spec)
    const attempt = await takeServiceLock(api.kube(), 'web', lockOf('aaaa'))
    expect(attempt.state).toBe('taken')
    expect(api.patches).toBe(1)
    expect(api.services.get('web')?.metadata?.annotations).toEqual({
      'ktx.dev/lock': formatRecord(lockOf('aaaa')),
      'ktx.dev/original-selector': '{"session":"aaaa","selector":{"app":"web"}}',
    })
  })

  it('goes to exactly one of two sessions racing for it; the other sees the live winner', async () => {
    const api = new FakeApi()
    api.addService('web', spec)
    api.addLease('ktx-aaaa', 1)
    api.addLease('ktx-bbbb', 1)
    const kube = api.kube()
    const [a, b] = await Promise.all([
      takeServiceLock(kube, 'web', lockOf('aaaa')),
      takeServiceLock(kube, 'web', lockOf('bbbb')),
    ])
    const states = [a.state, b.state].sort()
    expect(states).toEqual(['held', 'taken'])
    const loser = a.state === 'held' ? a : b
    const winner = a.state === 'taken' ? 'aaaa' : 'bbbb'
    expect(loser.state === 'held' && loser.lock.session).toBe(winner)
    expect(api.patches).toBe(1)
  })

  it('held by a session whose lease lapsed (or is gone) is stale, not held', async () => {
    const api = new FakeApi()
    api.addService(
      'web',
      { ...spec, selector: { 'ktx.dev/exchange': 'dead' } },
      {
        'ktx.dev/lock': formatRecord(lockOf('dead')),
      },
    )
    api.addLease('ktx-dead', 120)
    const attempt = await takeServiceLock(api.kube(), 'web', lockOf('bbbb'))
    expect(attempt.state).toBe('stale')
    expect(attempt.state === 'stale' && attempt.liveness?.alive).toBe(false)
    expect(api.patches).toBe(0)
  })

  it('switch and restore leave the Service exactly as it was, with no annotations map added', async () => {
    const api = new FakeApi()
    api.addService('web', spec)
    const before = structuredClone(api.services.get('web'))
    const kube = api.kube()
    await takeServiceLock(kube, 'web', lockOf('aaaa'))
    expect(
      await switchSelector(kube, 'web', { session: 'aaaa', selector: { 'ktx.dev/exchange': 'aaaa' } }),
    ).toBe(true)
    expect(api.services.get('web')?.spec?.selector).toEqual({ 'ktx.dev/exchange': 'aaaa' })
    expect(await restoreService(kube, 'web', { sessions: ['aaaa'], release: false })).toBe('restored')
    expect(api.services.get('web')?.spec).toEqual(before?.spec)
    expect(await restoreService(kube, 'web', { sessions: ['aaaa'], release: true })).toBe('restored')
    const after = api.services.get('web')
    expect(after?.spec).toEqual(before?.spec)
    expect(after?.metadata).not.toHaveProperty('annotations')
  })

  it('is not restored by another session, nor switched by one that lost it', async () => {
    const api = new FakeApi()
    api.addService('web', spec)
    const kube = api.kube()
    await takeServiceLock(kube, 'web', lockOf('aaaa'))
    expect(await restoreService(kube, 'web', { sessions: ['bbbb'], release: true })).toBe('other-owner')
    expect(await switchSelector(kube, 'web', { session: 'bbbb', selector: { x: 'y' } })).toBe(false)
    expect(api.services.get('web')?.metadata?.annotations).toHaveProperty(['ktx.dev/lock'])
  })
})

describe('re-pointing a re-applied Service', () => {
  const ours = { 'ktx.dev/exchange': 'aaaa' }

  it('after `kubectl apply` merged the old selector back in: points it at the shadow again', async () => {
    const api = new FakeApi()
    api.addService('web', spec)
    const kube = api.kube()
    await takeServiceLock(kube, 'web', lockOf('aaaa'))
    await switchSelector(kube, 'web', { session: 'aaaa', selector: ours })
    api.services.get('web')!.spec!.selector = { app: 'web', ...ours }
    const result = await repointService(kube, 'web', { record: lockOf('aaaa'), selector: ours })
    expect(result).toEqual({ outcome: 'repointed', previous: { app: 'web', ...ours } })
    expect(api.services.get('web')?.spec?.selector).toEqual(ours)
    expect(api.services.get('web')?.metadata?.annotations?.['ktx.dev/original-selector']).toBe(
      '{"session":"aaaa","selector":{"app":"web"}}',
    )
    expect(await repointService(kube, 'web', { record: lockOf('aaaa'), selector: ours })).toEqual({
      outcome: 'unchanged',
      previous: ours,
    })
  })

  it('after a replace that wiped the annotations: locks it again and keeps the new selector to restore', async () => {
    const api = new FakeApi()
    api.addService('web', spec)
    const kube = api.kube()
    await takeServiceLock(kube, 'web', lockOf('aaaa'))
    await switchSelector(kube, 'web', { session: 'aaaa', selector: ours })
    api.addService('web', { ...spec, selector: { app: 'web', tier: 'v2' } })
    expect((await repointService(kube, 'web', { record: lockOf('aaaa'), selector: ours })).outcome).toBe(
      'repointed',
    )
    await restoreService(kube, 'web', { sessions: ['aaaa'], release: true })
    expect(api.services.get('web')?.spec?.selector).toEqual({ app: 'web', tier: 'v2' })
    expect(api.services.get('web')?.metadata).not.toHaveProperty('annotations')
  })

  it('reports a Service another session took over as lost and leaves it alone', async () => {
    const api = new FakeApi()
    api.addService('web', spec, { 'ktx.dev/lock': formatRecord(lockOf('bbbb')) })
    const result = await repointService(api.kube(), 'web', { record: lockOf('aaaa'), selector: ours })
    expect(result.outcome).toBe('lost')
    expect(api.patches).toBe(0)
  })
})
