/**
 * The workload side of the redirect protocol for scale mode: the Deployment/StatefulSet carries
 * the session's lock and its original replica count while it is scaled to 0. Guarded writes as in
 * service-lock.ts.
 */
import { ANNOTATIONS } from '../contract.js'
import type { Kube } from './client.js'
import { guardedUpdate } from './guarded-update.js'
import { type PatchOp, annotationOps } from './json-patch.js'
import { judgeLease } from './liveness.js'
import {
  type LockRecord,
  type OriginalReplicas,
  formatRecord,
  readLock,
  readOriginalReplicas,
} from './redirect-state.js'
import type { WorkloadRef } from './redirect-state.js'
import type { LockAttempt } from './service-lock.js'
import { type Workload, patchWorkload, readWorkload } from './workload.js'

/** The outcome of {@link takeWorkloadLock}: as for a Service, with the workload instead. */
export type WorkloadLockAttempt =
  { readonly state: 'taken'; readonly workload: Workload } | Exclude<LockAttempt, { state: 'taken' }>

/**
 * Takes the lock on a workload and records its replica count (`ktx.dev/original-replicas`), in one
 * guarded patch. Taking a lock the session already holds is a no-op.
 */
export async function takeWorkloadLock(
  kube: Kube,
  ref: WorkloadRef,
  record: LockRecord & { readonly service: string },
  signal?: AbortSignal,
): Promise<WorkloadLockAttempt> {
  const { service, ...lockRecord } = record
  let other: WorkloadLockAttempt | undefined
  await guardedUpdate(
    () => readWorkload(kube, ref, signal),
    (ops) => patchWorkload(kube, ref, ops, signal),
    (workload) => {
      const lock = readLock(workload.annotations)
      if (lock.state === 'valid' && lock.value.session === record.session) return []
      if (lock.state !== 'absent' || readOriginalReplicas(workload.annotations).state !== 'absent') {
        other = { state: 'stale', lock: lock.state === 'valid' ? lock.value : undefined, liveness: undefined }
        return undefined
      }
      return annotationOps(workload.annotations, {
        [ANNOTATIONS.lock]: formatRecord(lockRecord),
        [ANNOTATIONS.originalReplicas]: formatRecord({
          session: record.session,
          replicas: workload.replicas,
          service,
        }),
      })
    },
  )
  if (other?.state === 'stale' && other.lock !== undefined) {
    const liveness = await judgeLease(kube, other.lock.lease, signal)
    return liveness.alive
      ? { state: 'held', lock: other.lock, liveness }
      : { state: 'stale', lock: other.lock, liveness }
  }
  if (other) return other
  return { state: 'taken', workload: await readWorkload(kube, ref, signal) }
}

/** What {@link scaleWorkload} did. */
export interface WorkloadScale {
  /** False when the lock is no longer the session's (nothing was written). */
  readonly written: boolean
  /** The count the session's record holds to put back afterwards (undefined: no record of its own). */
  readonly saved: number | undefined
  /** The count found and replaced (undefined when it already was the one asked for). */
  readonly replaced?: number
}

/**
 * Sets the replica count, provided the session still holds the workload, and notes the count set
 * in the session's `original-replicas` record in the same write (restore checks it is still so).
 * With `adoptCurrent`, a count other than `replicas` found there becomes the one to put back: its
 * owner chose it during the session.
 */
export async function scaleWorkload(
  kube: Kube,
  ref: WorkloadRef,
  options: { readonly session: string; readonly replicas: number; readonly adoptCurrent?: boolean },
  signal?: AbortSignal,
): Promise<WorkloadScale> {
  let saved: number | undefined
  let replaced: number | undefined
  const result = await guardedUpdate(
    () => readWorkload(kube, ref, signal),
    (ops) => patchWorkload(kube, ref, ops, signal),
    (workload) => {
      replaced = undefined
      const lock = readLock(workload.annotations)
      if (lock.state !== 'valid' || lock.value.session !== options.session) return undefined
      const original = readOriginalReplicas(workload.annotations)
      const record =
        original.state === 'valid' && original.value.session === options.session ? original.value : undefined
      const adopt = options.adoptCurrent === true && workload.replicas !== options.replicas
      saved = adopt && record ? workload.replicas : record?.replicas
      const ops: PatchOp[] = []
      if (
        record &&
        saved !== undefined &&
        (record.scaledTo !== options.replicas || record.replicas !== saved)
      ) {
        ops.push(
          ...annotationOps(workload.annotations, {
            [ANNOTATIONS.originalReplicas]: formatRecord({
              ...record,
              replicas: saved,
              scaledTo: options.replicas,
            }),
          }),
        )
      }
      if (workload.replicas !== options.replicas) {
        replaced = workload.replicas
        ops.push({ op: 'replace', path: '/spec/replicas', value: options.replicas })
      }
      return ops
    },
  )
  const written = result === 'written'
  return { written, saved, ...(written && replaced !== undefined ? { replaced } : {}) }
}

/** What {@link restoreWorkload} did. */
export interface WorkloadRestore {
  readonly outcome: 'restored' | 'not-locked' | 'other-owner' | 'gone'
  /** The replica count the workload has afterwards, when ktx knew one to put back. */
  readonly replicas: number | undefined
  /**
   * Someone set the replicas during the session (kubectl scale or apply, an HPA): ktx found
   * `found`, not the count it had set, and left it rather than put back `saved`.
   */
  readonly changed?: { readonly found: number; readonly saved: number }
  /** The saved record no longer said what the session saved; the session's own count was used. */
  readonly recordChanged?: boolean
}

/**
 * Puts back the replica count saved by one of `sessions` and, with `release`, removes their
 * records (and unreadable ones). Only those sessions' records are touched: a workload another
 * session locked meanwhile is left alone (`other-owner`), never scaled up under it.
 *
 * The count is put back only while the workload still has the count ktx set (0): any other count
 * was chosen by its owner during the session and wins. `saved` is the count a live session
 * recorded itself; it is used over a record that someone changed or removed meanwhile.
 */
export async function restoreWorkload(
  kube: Kube,
  ref: WorkloadRef,
  options: { readonly sessions: readonly string[]; readonly release: boolean; readonly saved?: number },
  signal?: AbortSignal,
): Promise<WorkloadRestore> {
  let outcome: WorkloadRestore['outcome'] = 'not-locked'
  let plan: ReplicaPlan = { replicas: undefined }
  const mine = (session: string): boolean => options.sessions.includes(session)
  const result = await guardedUpdate(
    () => findWorkload(kube, ref, signal),
    (ops) => patchWorkload(kube, ref, ops, signal),
    (workload) => {
      const lock = readLock(workload.annotations)
      const original = readOriginalReplicas(workload.annotations)
      plan = { replicas: undefined }
      if (lock.state === 'valid' && !mine(lock.value.session)) {
        outcome = 'other-owner'
        return undefined
      }
      const ours = original.state === 'valid' && mine(original.value.session)
      plan = planReplicas(workload.replicas, ours ? original.value : undefined, options.saved)
      const ops: PatchOp[] = []
      if (plan.write) ops.push({ op: 'replace', path: '/spec/replicas', value: plan.replicas })
      if (options.release) {
        const drop: Record<string, undefined> = {}
        if (lock.state !== 'absent') drop[ANNOTATIONS.lock] = undefined
        if (ours || original.state === 'corrupt') drop[ANNOTATIONS.originalReplicas] = undefined
        ops.push(...annotationOps(workload.annotations, drop))
      }
      outcome = lock.state === 'absent' && original.state === 'absent' ? 'not-locked' : 'restored'
      return ops
    },
  )
  const { replicas, changed, recordChanged } = plan
  return {
    outcome: result === 'gone' ? 'gone' : outcome,
    replicas,
    ...(changed ? { changed } : {}),
    ...(recordChanged ? { recordChanged } : {}),
  }
}

/** Warnings for a restore that did not simply put the saved count back. */
export function describeRestore(what: string, restored: WorkloadRestore): string[] {
  const messages: string[] = []
  if (restored.changed) {
    const { found, saved } = restored.changed
    messages.push(
      `${what} has ${found} replicas, not the 0 ktx set: its owner scaled it during the session (kubectl scale or apply, an autoscaler), so ktx left it at ${found} instead of putting back ${saved}.`,
    )
  }
  if (restored.recordChanged) {
    messages.push(
      `The ktx.dev/original-replicas record of ${what} was changed or removed during the session; ktx used the count it had saved itself (${restored.changed?.saved ?? restored.replicas}).`,
    )
  }
  return messages
}

interface ReplicaPlan {
  readonly replicas: number | undefined
  readonly write?: boolean
  readonly changed?: { readonly found: number; readonly saved: number }
  readonly recordChanged?: boolean
}

// What to do with the replica count: put the saved one back only over the count ktx set.
function planReplicas(
  current: number,
  record: OriginalReplicas | undefined,
  remembered: number | undefined,
): ReplicaPlan {
  const saved = remembered ?? record?.replicas
  if (saved === undefined) return { replicas: undefined }
  const recordChanged = remembered !== undefined && record?.replicas !== remembered
  const flags = recordChanged ? { recordChanged } : {}
  // Records written before ktx noted the count it set: it only ever sets 0.
  const setByKtx = record?.scaledTo ?? 0
  if (current === saved) return { replicas: saved, ...flags }
  if (current === setByKtx) return { replicas: saved, write: true, ...flags }
  return { replicas: current, changed: { found: current, saved }, ...flags }
}

async function findWorkload(
  kube: Kube,
  ref: WorkloadRef,
  signal?: AbortSignal,
): Promise<Workload | undefined> {
  try {
    return await readWorkload(kube, ref, signal)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'KTX_WORKLOAD_NOT_FOUND') return undefined
    throw error
  }
}
