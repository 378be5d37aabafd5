import { ApiException, type V1Lease } from '@kubernetes/client-node'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { noopLogger } from '../logger.js'
import { fakeKube } from '../testing/fake-kube.js'
import { toKubeError } from './errors.js'
import { startLeaseRenewal } from './lease-renewal.js'

const apiError = (code: number) =>
  toKubeError(new ApiException(code, 'failed', '{}', {}), {
    verb: 'update',
    resource: 'leases',
    server: 'fake',
  })

// A Lease API whose replace calls the test controls: each is answered by `answer` (after
// `delayMs`), counting how many run at once.
function leaseApi(answer: (call: number) => 'ok' | number, delayMs = 0) {
  let version = 1
  const state = { replaces: 0, reads: 0, running: 0, maxRunning: 0 }
  const coordination = {
    readNamespacedLease: () => {
      state.reads += 1
      return Promise.resolve<V1Lease>({
        metadata: { name: 'ktx-a', resourceVersion: String(version) },
        spec: {},
      })
    },
    replaceNamespacedLease: async () => {
      state.replaces += 1
      state.running += 1
      state.maxRunning = Math.max(state.maxRunning, state.running)
      const call = state.replaces
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      state.running -= 1
      const outcome = answer(call)
      if (outcome !== 'ok') throw apiError(outcome)
      version += 1
      return {}
    },
  }
  return { kube: fakeKube({ coordination }), state }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] })
})
afterEach(() => {
  vi.useRealTimers()
})

// Lease of 9 s: a renewal every 3 s, at risk once 6 s passed since the last one that worked.
const start = (kube: ReturnType<typeof fakeKube>, onRenewFailed: (e: unknown) => void) =>
  startLeaseRenewal(kube, { name: 'ktx-a', durationSeconds: 9, logger: noopLogger, onRenewFailed })

describe('lease renewal', () => {
  it('never runs two renewals at once, however slow the API server is', async () => {
    const { kube, state } = leaseApi(() => 'ok', 5_000)
    const failed = vi.fn()
    const renewal = start(kube, failed)
    await vi.advanceTimersByTimeAsync(30_000)
    renewal.stop()
    expect(state.replaces).toBeGreaterThanOrEqual(3)
    expect(state.maxRunning).toBe(1)
    expect(failed).not.toHaveBeenCalled()
  })

  it('reads again and retries at once after a 409, without reporting a failure', async () => {
    const { kube, state } = leaseApi((call) => (call === 1 ? 409 : 'ok'))
    const failed = vi.fn()
    const renewal = start(kube, failed)
    await vi.advanceTimersByTimeAsync(3_100)
    renewal.stop()
    expect(state).toMatchObject({ replaces: 2, reads: 2 })
    expect(failed).not.toHaveBeenCalled()
  })

  it('retries a failed renewal within a second, not a period later, and reports nothing', async () => {
    const { kube, state } = leaseApi((call) => (call <= 2 ? 503 : 'ok'))
    const failed = vi.fn()
    const renewal = start(kube, failed)
    await vi.advanceTimersByTimeAsync(3_000 + 800)
    expect(state.replaces).toBe(3)
    renewal.stop()
    expect(failed).not.toHaveBeenCalled()
  })

  it('reports once, only when the lease is about to lapse', async () => {
    const { kube } = leaseApi(() => 503)
    const failed = vi.fn()
    const renewal = start(kube, failed)
    await vi.advanceTimersByTimeAsync(5_900)
    expect(failed).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(2_200)
    expect(failed).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(failed).toHaveBeenCalledTimes(1)
    renewal.stop()
  })

  it('reports at once and stops when the Lease is gone', async () => {
    const { kube, state } = leaseApi(() => 404)
    const failed = vi.fn()
    start(kube, failed)
    await vi.advanceTimersByTimeAsync(3_100)
    expect(failed).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(state.replaces).toBe(1)
  })
})
