import { describe, expect, it } from 'vitest'

import { CleanupStack } from './cleanup-stack.js'
import { sleep } from './sleep.js'

// A step as exchange's restore is: the undo, then a wait that confirms it settled.
function restoreThenWait(order: string[], name: string, waitMs: number) {
  return async (
    _signal: AbortSignal,
    unwind: { wait(fn: (s: AbortSignal) => Promise<unknown>): Promise<void> },
  ) => {
    order.push(`${name} undone`)
    await unwind.wait(async (signal) => {
      await sleep(waitMs, signal)
      order.push(`${name} settled`)
    })
  }
}

describe('CleanupStack.hurry', () => {
  it('cuts a running wait short and skips later waits, but runs every undo', async () => {
    const order: string[] = []
    const stack = new CleanupStack({ stepTimeoutMs: 30_000 })
    stack.defer('a', restoreThenWait(order, 'a', 20_000))
    stack.defer('b', restoreThenWait(order, 'b', 20_000))
    const started = Date.now()
    const unwound = stack.unwind()
    await new Promise((resolve) => setTimeout(resolve, 50))
    stack.hurry()
    await unwound
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(order).toEqual(['b undone', 'a undone'])
    expect(stack.hurried).toBe(true)
  })

  it('without hurrying, waits for every wait', async () => {
    const order: string[] = []
    const stack = new CleanupStack()
    stack.defer('a', restoreThenWait(order, 'a', 10))
    await stack.unwind()
    expect(order).toEqual(['a undone', 'a settled'])
  })

  it('hurries when the hurry signal given to it aborts, even before the unwind', async () => {
    const order: string[] = []
    const hurry = new AbortController()
    const stack = new CleanupStack({ hurry: hurry.signal })
    stack.defer('a', restoreThenWait(order, 'a', 20_000))
    hurry.abort()
    await stack.unwind()
    expect(order).toEqual(['a undone'])
  })

  it('still fails a step whose wait fails by itself or times out', async () => {
    const stack = new CleanupStack({ stepTimeoutMs: 50 })
    stack.defer('slow', (_signal, unwind) => unwind.wait((signal) => sleep(10_000, signal)))
    await expect(stack.unwind()).rejects.toMatchObject({ code: 'KTX_CLEANUP_INCOMPLETE' })
  })
})
