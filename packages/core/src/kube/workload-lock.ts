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
import { type LockRecord, formatRecord, readLock, readOriginalReplicas } from './redirect-state.js'
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

/**
 * Sets the replica count, provided the session still holds the workload.
 * @returns false when the lock is no longer the session's (nothing was written).
 */
export async function scaleWorkload(
  kube: Kube,
  ref: WorkloadRef,
  options: { readonly session: string; readonly replicas: number },
  signal?: AbortSignal,
): Promise<boolean> {
  const result = await guardedUpdate(
    () => readWorkload(kube, ref, signal),
    (ops) => patchWorkload(kube, ref, ops, signal),
    (workload) => {
      const lock = readLock(workload.annotations)
      if (lock.state !== 'valid' || lock.value.session !== options.session) return undefined
      return workload.replicas === options.replicas
        ? []
        : [{ op: 'replace', path: '/spec/replicas', value: options.replicas }]
    },
  )
  return result === 'written'
}

/** What {@link restoreWorkload} did; `replicas` is the count put back, when there was one. */
export interface WorkloadRestore {
  readonly outcome: 'restored' | 'not-locked' | 'other-owner' | 'gone'
  readonly replicas: number | undefined
}

/**
 * Puts back the replica count saved by one of `sessions` and, with `release`, removes their
 * records (and unreadable ones). Only those sessions' records are touched: a workload another
 * session locked meanwhile is left alone (`other-owner`), never scaled up under it.
 */
export async function restoreWorkload(
  kube: Kube,
  ref: WorkloadRef,
  options: { readonly sessions: readonly string[]; readonly release: boolean },
  signal?: AbortSignal,
): Promise<WorkloadRestore> {
  let outcome: WorkloadRestore['outcome'] = 'not-locked'
  let replicas: number | undefined
  const mine = (session: string): boolean => options.sessions.includes(session)
  const result = await guardedUpdate(
    () => findWorkload(kube, ref, signal),
    (ops) => patchWorkload(kube, ref, ops, signal),
    (workload) => {
      const lock = readLock(workload.annotations)
      const original = readOriginalReplicas(workload.annotations)
      replicas = undefined
      if (lock.state === 'valid' && !mine(lock.value.session)) {
        outcome = 'other-owner'
        return undefined
      }
      const ops: PatchOp[] = []
      const ours = original.state === 'valid' && mine(original.value.session)
      if (ours) {
        replicas = original.value.replicas
        if (workload.replicas !== replicas)
          ops.push({ op: 'replace', path: '/spec/replicas', value: replicas })
      }
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
  return { outcome: result === 'gone' ? 'gone' : outcome, replicas }
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
