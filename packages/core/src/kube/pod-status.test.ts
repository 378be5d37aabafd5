import type { V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { judgePod } from './pod-status.js'

const image = 'localhost/ktx-shadow:dev'
function pod(status: NonNullable<V1Pod['status']>, extra: Partial<V1Pod['metadata']> = {}): V1Pod {
  return { metadata: { name: 'ktx-shadow-1', namespace: 'ns', ...extra }, status }
}

describe('judgePod', () => {
  it('is ready when the Ready condition is True', () => {
    expect(
      judgePod(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), image),
    ).toEqual({
      state: 'ready',
    })
  })

  it('keeps waiting while the container is being created or the image is first pulled', () => {
    for (const reason of ['ContainerCreating', 'ErrImagePull']) {
      const verdict = judgePod(pod({ phase: 'Pending', containerStatuses: [stateWaiting(reason)] }), image)
      expect(verdict).toMatchObject({ state: 'waiting', detail: expect.stringContaining(reason) as string })
    }
  })

  it.each(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName'])(
    'fails fast on %s, naming the image and pod',
    (reason) => {
      const verdict = judgePod(
        pod({ phase: 'Pending', containerStatuses: [stateWaiting(reason, 'nope')] }),
        image,
      )
      expect(verdict.state).toBe('failed')
      if (verdict.state !== 'failed') return
      expect(verdict.error.code).toBe('KTX_SHADOW_IMAGE_PULL')
      expect(verdict.error.message).toContain(image)
      expect(verdict.error.message).toContain('ns/ktx-shadow-1')
      expect(verdict.error.message).toContain(reason)
      // Every way to choose another image is named.
      const advice = verdict.error.suggestions.join('\n')
      for (const way of [
        '--image',
        'KTX_IMAGE',
        'ktx config set image',
        'ktx image build',
        'ktx image push',
      ]) {
        expect(advice).toContain(way)
      }
    },
  )

  it('fails on CrashLoopBackOff and on a terminated agent with its exit code', () => {
    const loop = judgePod(
      pod({ phase: 'Running', containerStatuses: [stateWaiting('CrashLoopBackOff')] }),
      image,
    )
    expect(loop).toMatchObject({ state: 'failed', error: { code: 'KTX_SHADOW_CRASHED' } })
    const exited = judgePod(
      pod({
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'agent',
            image,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 127, reason: 'Error' } },
          },
        ],
      }),
      image,
    )
    expect(exited.state).toBe('failed')
    if (exited.state === 'failed') expect(exited.error.message).toContain('exited with code 127')
  })

  it('reports an unschedulable pod as waiting with the scheduler message', () => {
    const verdict = judgePod(
      pod({
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' },
        ],
      }),
      image,
    )
    expect(verdict).toEqual({ state: 'waiting', detail: 'not scheduled: Unschedulable 0/1 nodes' })
  })

  it('fails when the pod is being deleted', () => {
    const verdict = judgePod(pod({ phase: 'Running' }, { deletionTimestamp: new Date() }), image)
    expect(verdict).toMatchObject({ state: 'failed', error: { code: 'KTX_SHADOW_FAILED' } })
  })
})

function stateWaiting(reason: string, message?: string) {
  return {
    name: 'agent',
    image,
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  }
}
