import { describe, expect, it } from 'vitest'

import { type KeepAliveOptions, keepAlive } from './heal.js'

// A link whose loss the test triggers.
class Link {
  #resolve: (error: Error | undefined) => void = () => undefined
  readonly lost = new Promise<Error | undefined>((resolve) => (this.#resolve = resolve))
  discarded = false
  constructor(readonly n: number) {}
  // The healer hears of a loss a few microtasks later, as it would from a socket.
  async lose(error = new Error(`link ${this.n} lost`)): Promise<void> {
    this.#resolve(error)
    await new Promise((resolve) => setImmediate(resolve))
  }
  async closeOnPurpose(): Promise<void> {
    this.#resolve(undefined)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function harness(overrides: Partial<KeepAliveOptions<Link>> & { failFirst?: number } = {}) {
  const controller = new AbortController()
  const events: string[] = []
  const links = [new Link(0)]
  let failures = overrides.failFirst ?? 0
  const healer = keepAlive<Link>({
    first: links[0]!,
    lost: (link) => link.lost,
    reopen: () => {
      if (failures > 0) {
        failures -= 1
        return Promise.reject(new Error('cluster unreachable'))
      }
      const link = new Link(links.length)
      links.push(link)
      return Promise.resolve(link)
    },
    discard: (link) => {
      link.discarded = true
    },
    budgetMs: 2_000,
    firstDelayMs: 10,
    maxDelayMs: 40,
    signal: controller.signal,
    onDegraded: (error) => events.push(`degraded: ${error.message}`),
    onAttemptFailed: (_error, attempt) => events.push(`attempt ${attempt} failed`),
    onRestored: (link, outage) => events.push(`restored link ${link.n} after ${outage.attempts}`),
    giveUp: (last) => new Error(`gave up: ${(last as Error).message}`),
    ...overrides,
  })
  return { healer, links, events, controller }
}

describe('keepAlive', () => {
  it('replaces a lost link, reporting degraded then restored, and discards the dead one', async () => {
    const { healer, links, events } = harness({ failFirst: 2 })
    expect(healer.state).toBe('ready')
    await links[0]?.lose()
    expect(healer.state).toBe('degraded')
    const back = await healer.ready(1_000)
    expect(back.n).toBe(1)
    expect(healer.current).toBe(back)
    expect(healer.state).toBe('ready')
    expect(links[0]?.discarded).toBe(true)
    expect(events).toEqual([
      'degraded: link 0 lost',
      'attempt 1 failed',
      'attempt 2 failed',
      'restored link 1 after 3',
    ])
  })

  it('heals again when the replacement is lost too', async () => {
    const { healer, links } = harness()
    await links[0]?.lose()
    await healer.ready(1_000)
    await links[1]?.lose()
    expect((await healer.ready(1_000)).n).toBe(2)
  })

  it('ignores a link closed on purpose', async () => {
    const { healer, links, events } = harness()
    await links[0]?.closeOnPurpose()
    expect(healer.state).toBe('ready')
    expect(events).toEqual([])
  })

  it('ends with the give-up error once the budget is spent, and waiters hear it', async () => {
    const { healer, links } = harness({ failFirst: Number.POSITIVE_INFINITY, budgetMs: 150 })
    await links[0]?.lose()
    const waiting = healer.ready(5_000)
    const ended = await healer.ended
    expect(ended.message).toBe('gave up: cluster unreachable')
    await expect(waiting).rejects.toBe(ended)
    // A waiter that comes after hears it at once, not after its wait.
    await expect(healer.ready(60_000)).rejects.toBe(ended)
    expect(healer.state).toBe('degraded')
  })

  it('a waiter gives up after its own wait while healing goes on', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { healer, links } = harness({
      reopen: async () => {
        await gate
        return new Link(9)
      },
    })
    await links[0]?.lose()
    await expect(healer.ready(20)).rejects.toThrow('still reconnecting after 20 ms')
    release()
    expect((await healer.ready(1_000)).n).toBe(9)
  })

  it('stops healing when its signal aborts, and discards a link that arrives after', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const late = new Link(7)
    const { healer, links, controller, events } = harness({
      reopen: async () => {
        await gate
        return late
      },
    })
    await links[0]?.lose()
    const waiting = healer.ready(5_000)
    controller.abort(new Error('closing'))
    await expect(waiting).rejects.toThrow('closed while reconnecting: closing')
    release()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(late.discarded).toBe(true)
    expect(healer.state).toBe('degraded')
    expect(events.some((e) => e.startsWith('restored'))).toBe(false)
  })

  it('ends at once on an error no retry can cure', async () => {
    const fatal = new Error('the Lease is gone')
    const { healer, links, events } = harness({
      reopen: () => Promise.reject(fatal),
      fatal: (error) => error === fatal,
    })
    await links[0]?.lose()
    expect(await healer.ended).toBe(fatal)
    expect(events).toEqual(['degraded: link 0 lost'])
  })

  it('a waiter that comes after the signal aborted hears it at once', async () => {
    const { healer, links, controller } = harness({ reopen: () => new Promise<Link>(() => undefined) })
    await links[0]?.lose()
    controller.abort(new Error('closing'))
    const started = Date.now()
    await expect(healer.ready(5_000)).rejects.toThrow('closed while reconnecting: closing')
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
