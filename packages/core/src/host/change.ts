import type { UndoOp } from './journal.js'

/**
 * One change to this machine: what it is, how to make it and how to undo it (as journal data, so
 * `ktx clean` can undo it after a crash). Made through `applyChange`, which journals it first.
 */
export interface HostChange {
  readonly description: string
  readonly undo: UndoOp
  apply(signal?: AbortSignal): Promise<void>
}
