import { type PatchOp, guard } from './json-patch.js'

/** Guarded writes are retried this often before giving up (each after a fresh read). */
export const WRITE_ATTEMPTS = 8

/** The object a guarded update works on. */
export interface Versioned {
  readonly metadata?: { readonly resourceVersion?: string | undefined }
}

/**
 * Read → decide → patch with a resourceVersion guard, retried after a fresh read when the API
 * server answers 409 (someone wrote in between). `decide` returns the operations (empty: nothing to
 * change) or undefined to leave the object alone.
 * @returns `written` (or nothing needed), `declined` (decide returned undefined), `gone` (no object).
 */
export async function guardedUpdate<T extends Versioned>(
  read: () => Promise<T | undefined>,
  patch: (ops: PatchOp[]) => Promise<unknown>,
  decide: (object: T) => PatchOp[] | undefined,
): Promise<'written' | 'declined' | 'gone'> {
  for (let attempt = 1; ; attempt++) {
    const object = await read()
    if (object === undefined) return 'gone'
    const ops = decide(object)
    if (ops === undefined) return 'declined'
    if (ops.length === 0) return 'written'
    try {
      await patch([...guard(object.metadata?.resourceVersion), ...ops])
      return 'written'
    } catch (error) {
      if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error
    }
  }
}

/** True for the 409 the API server answers a write whose resourceVersion guard failed. */
export function isConflict(error: unknown): boolean {
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } }
  return code === 'KTX_KUBE_CONFLICT' && cause?.code === 409
}
