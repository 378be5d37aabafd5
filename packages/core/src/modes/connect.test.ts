import { describe, expect, it } from 'vitest'

import { PermissionError, isKtxError } from '../errors.js'
import type { SessionEvent } from '../events.js'
import type { Kube } from '../kube/client.js'
import { fakeKube } from '../testing/fake-kube.js'
import { connect } from './connect.js'

// A Kube whose API methods record calls; pod creation is refused like an RBAC denial.
function recordingKube(calls: string[]): Kube {
  const coordination = {
    createNamespacedLease: (req: { body: { metadata: { name: string } } }) => {
      calls.push(`create lease ${req.body.metadata.name}`)
      return Promise.resolve({ ...req.body, metadata: { ...req.body.metadata, uid: 'uid-1' } })
    },
    deleteNamespacedLease: (req: { name: string }) => {
      calls.push(`delete lease ${req.name}`)
      return Promise.resolve({})
    },
  }
  const core = {
    createNamespacedPod: () => {
      calls.push('create pod')
      return Promise.reject(
        new PermissionError('KTX_KUBE_FORBIDDEN', 'Not allowed to create pods in namespace "ns"', {
          verb: 'create',
          resource: 'pods',
        }),
      )
    },
  }
  return fakeKube({ core, coordination })
}

describe('connect() setup failure', () => {
  it('removes what it created (the lease) before rethrowing the original error', async () => {
    const calls: string[] = []
    const events: SessionEvent[] = []
    const error = await connect({
      kube: recordingKube(calls),
      owner: 't@h',
      onEvent: (e) => events.push(e),
    }).catch((e: unknown) => e)
    expect(isKtxError(error) && error.code).toBe('KTX_KUBE_FORBIDDEN')
    expect(calls).toHaveLength(3)
    expect(calls[0]).toMatch(/^create lease ktx-[0-9a-f]{8}$/)
    expect(calls[1]).toBe('create pod')
    expect(calls[2]).toBe(calls[0]!.replace('create', 'delete'))
    expect(events.filter((e) => e.type === 'step.fail')).toEqual([
      { type: 'step.fail', step: 'shadow.create', error },
    ])
    expect(events).toContainEqual({ type: 'cleanup.step', name: 'delete lease' })
  })

  it('rejects with the abort reason and creates nothing when aborted before it starts', async () => {
    const calls: string[] = []
    const reason = new Error('user gave up')
    const error = await connect({ kube: recordingKube(calls), signal: AbortSignal.abort(reason) }).catch(
      (e: unknown) => e,
    )
    expect(error).toBe(reason)
    expect(calls).toEqual([])
  })
})
