import { describe, expect, it } from 'vitest'

import { CleanupError, isKtxError } from '../errors.js'
import { CleanupStack } from './cleanup-stack.js'

describe('CleanupStack', () => {
  it('runs steps last-in first-out', async () => {
    const order: string[] = []
    const stack = new CleanupStack()
    stack.defer('a', () => void order.push('a'))
    stack.defer('b', async () => {
      await Promise.resolve()
      order.push('b')
    })
    stack.defer('c', () => void order.push('c'))
    await stack.unwind()
    expect(order).toEqual(['c', 'b', 'a'])
    expect(stack.size).toBe(0)
  })

  it('keeps going after a failure and reports every failed step with its leftover', async () => {
    const order: string[] = []
    const seen: string[] = []
    const stack = new CleanupStack({ onError: (name) => seen.push(name) })
    stack.defer('delete pod', () => void order.push('pod'))
    stack.defer(
      'delete lease',
      () => {
        throw new Error('boom')
      },
      { leftover: { kind: 'Lease', name: 'ktx-1', namespace: 'ns' } },
    )
    stack.defer('close ssh', () => Promise.reject(new Error('bang')))
    const error = await stack.unwind().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CleanupError)
    expect(isKtxError(error) && error.code).toBe('KTX_CLEANUP_INCOMPLETE')
    const cleanup = error as CleanupError
    expect(cleanup.errors).toHaveLength(2)
    expect(cleanup.leftovers).toEqual([{ kind: 'Lease', name: 'ktx-1', namespace: 'ns' }])
    expect(cleanup.message).toContain('close ssh: bang')
    expect(cleanup.message).toContain('delete lease: boom')
    expect(order).toEqual(['pod'])
    expect(seen).toEqual(['close ssh', 'delete lease'])
  })

  it('bounds a hanging step by its timeout, aborts its signal and moves on', async () => {
    let aborted: unknown
    const ran: string[] = []
    const stack = new CleanupStack({ stepTimeoutMs: 5_000 })
    stack.defer('first', () => {
      ran.push('first')
    })
    stack.defer(
      'hangs',
      (signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason
          })
        }),
      { timeoutMs: 20 },
    )
    const started = Date.now()
    const error = (await stack.unwind().catch((e: unknown) => e)) as CleanupError
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error.message).toContain('"hangs" did not finish within 20 ms')
    expect(aborted).toBeInstanceOf(Error)
    expect(ran).toEqual(['first'])
  })

  it('is memoised: a second unwind returns the same promise and runs nothing twice', async () => {
    let runs = 0
    const stack = new CleanupStack()
    stack.defer('once', () => {
      runs++
    })
    const first = stack.unwind()
    expect(stack.unwind()).toBe(first)
    await first
    expect(runs).toBe(1)
  })
})
