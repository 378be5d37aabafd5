import { CleanupError, type ResourceRef, messageOf } from '../errors.js'

/**
 * One undo step: gets a signal that aborts when its timeout runs out, and the unwind, whose
 * {@link UnwindContext.wait} marks the part of the step a hurried teardown may skip.
 */
export type UndoFn = (signal: AbortSignal, unwind: UnwindContext) => Promise<void> | void

/** What an undo step knows of the unwind it runs in. */
export interface UnwindContext {
  /** Aborts once the stack is told to {@link CleanupStack.hurry}. */
  readonly hurried: AbortSignal
  /**
   * Runs a wait that confirms an undo took effect (endpoints settling, a pod gone, a routing
   * probe): skipped when the stack hurries, cut short (resolving, not failing) when it starts to
   * hurry meanwhile. Never wrap an undo itself in it: hurrying skips waits, never a restore.
   */
  wait(fn: (signal: AbortSignal) => Promise<unknown>): Promise<void>
}

/** Options for {@link CleanupStack.defer}. */
export interface DeferOptions {
  /** Overrides the stack's default per-step timeout. */
  readonly timeoutMs?: number
  /** What stays behind if this step fails; reported in {@link CleanupError.leftovers}. */
  readonly leftover?: ResourceRef
}

/** Options for {@link CleanupStack}. */
export interface CleanupStackOptions {
  /** Per-step timeout unless the step sets its own. Default 10 000 ms. */
  readonly stepTimeoutMs?: number
  /** Called before each step runs. */
  readonly onStep?: (name: string) => void
  /** Called when a step fails or times out; the error is also collected. */
  readonly onError?: (name: string, error: unknown) => void
  /** Aborting it makes the stack {@link CleanupStack.hurry}. */
  readonly hurry?: AbortSignal
}

interface Step {
  readonly name: string
  readonly fn: UndoFn
  readonly timeoutMs: number
  readonly leftover: ResourceRef | undefined
}

/**
 * Undo registered at the moment of doing: `await create(); stack.defer('delete x', undo)`.
 * {@link unwind} runs the steps last-in first-out, each bounded by its timeout; a failing step does
 * not stop the rest. Failures are collected into one {@link CleanupError}. A stack told to
 * {@link hurry} still runs every step, but skips the waits the steps mark as such.
 */
export class CleanupStack {
  readonly #steps: Step[] = []
  readonly #stepTimeoutMs: number
  readonly #onStep: ((name: string) => void) | undefined
  readonly #onError: ((name: string, error: unknown) => void) | undefined
  #unwinding: Promise<void> | undefined
  readonly #hurry = new AbortController()

  constructor(options: CleanupStackOptions = {}) {
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 10_000
    this.#onStep = options.onStep
    this.#onError = options.onError
    if (options.hurry?.aborted) this.hurry()
    else options.hurry?.addEventListener('abort', () => this.hurry(), { once: true })
  }

  /** True once told to hurry. */
  get hurried(): boolean {
    return this.#hurry.signal.aborted
  }

  /**
   * From now on (also in an unwind already running) steps skip their waits: the teardown gets
   * through every undo as fast as the undos themselves allow. Nothing is skipped but waiting.
   */
  hurry(): void {
    this.#hurry.abort(new Error('cleanup hurried'))
  }

  /** Number of steps still to run. */
  get size(): number {
    return this.#steps.length
  }

  /** Registers an undo step. Steps deferred after {@link unwind} started run in that same unwind. */
  defer(name: string, fn: UndoFn, options: DeferOptions = {}): void {
    this.#steps.push({
      name,
      fn,
      timeoutMs: options.timeoutMs ?? this.#stepTimeoutMs,
      leftover: options.leftover,
    })
  }

  /**
   * Runs every step, newest first. Memoised: a second call returns the same promise.
   * @throws CleanupError (`KTX_CLEANUP_INCOMPLETE`) listing each failed step and its leftover.
   */
  unwind(): Promise<void> {
    this.#unwinding ??= this.#run()
    return this.#unwinding
  }

  async #run(): Promise<void> {
    const errors: unknown[] = []
    const leftovers: ResourceRef[] = []
    const failed: string[] = []
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      this.#onStep?.(step.name)
      try {
        await runBounded(step, this.#hurry.signal)
      } catch (error) {
        errors.push(error)
        failed.push(step.name)
        if (step.leftover) leftovers.push(step.leftover)
        this.#onError?.(step.name, error)
      }
    }
    if (errors.length > 0) {
      const detail = failed.map((name, i) => `${name}: ${messageOf(errors[i])}`).join('; ')
      throw new CleanupError(`Cleanup incomplete (${detail})`, errors, leftovers)
    }
  }
}

// A step that hangs must not hold up the rest of the teardown, so each one races its own timer.
// The timer stays ref'd: a step stuck on a promise that holds no handle would otherwise let the
// process exit mid-teardown (Node's "unsettled top-level await"), skipping every later step.
async function runBounded(step: Step, hurried: AbortSignal): Promise<void> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`"${step.name}" did not finish within ${step.timeoutMs} ms`)
      controller.abort(error)
      reject(error)
    }, step.timeoutMs)
  })
  try {
    const unwind = unwindContext(controller.signal, hurried)
    await Promise.race([Promise.resolve().then(() => step.fn(controller.signal, unwind)), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function unwindContext(signal: AbortSignal, hurried: AbortSignal): UnwindContext {
  // Hurrying, and not the step's own timeout, stopped the wait.
  const cutByHurry = (): boolean => hurried.aborted && !signal.aborted
  return {
    hurried,
    async wait(fn) {
      if (cutByHurry()) return
      try {
        await fn(AbortSignal.any([signal, hurried]))
      } catch (error) {
        // Cut short by hurrying: that is what was asked for, not a failure of the step.
        if (cutByHurry()) return
        throw error
      }
    },
  }
}
