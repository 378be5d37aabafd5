/**
 * The Service side of the redirect protocol (see redirect-state.ts): take the lock, switch the
 * selector, put it back. Every write carries a resourceVersion guard and is retried after a fresh
 * read when someone else wrote first, so two sessions racing for one Service cannot both win.
 */
import type { V1Service } from '@kubernetes/client-node'

import { ANNOTATIONS, EXCHANGE_LABEL } from '../contract.js'
import { ConflictError, KubeApiError } from '../errors.js'
import type { Kube } from './client.js'
import { WRITE_ATTEMPTS, guardedUpdate, isConflict } from './guarded-update.js'
import { type PatchOp, annotationOps, guard } from './json-patch.js'
import { type Liveness, judgeLease } from './liveness.js'
import {
  type LockRecord,
  formatRecord,
  readLock,
  readMeshRecord,
  readOriginalSelector,
  sameLabels,
} from './redirect-state.js'
import { findService, patchService, readService } from './service.js'

/** The outcome of {@link takeServiceLock}. */
export type LockAttempt =
  | { readonly state: 'taken'; readonly service: V1Service }
  /** Another session holds it and its Lease is alive. */
  | { readonly state: 'held'; readonly lock: LockRecord; readonly liveness: Liveness }
  /** Left behind by a dead session (or unreadable): recover it, then try again. */
  | {
      readonly state: 'stale'
      readonly lock: LockRecord | undefined
      readonly liveness: Liveness | undefined
    }

/**
 * Takes the lock on a Service: one guarded patch that adds `ktx.dev/lock` and, in selector mode,
 * `ktx.dev/original-selector` with the current selector. Taking a lock the session already holds
 * is a no-op.
 * @throws KubeApiError `KTX_SERVICE_NOT_FOUND` / `KTX_SERVICE_NO_SELECTOR`, or API errors.
 */
export async function takeServiceLock(
  kube: Kube,
  name: string,
  record: LockRecord,
  signal?: AbortSignal,
): Promise<LockAttempt> {
  for (let attempt = 1; ; attempt++) {
    const service = await readService(kube, name, signal)
    const annotations = service.metadata?.annotations
    const lock = readLock(annotations)
    if (lock.state === 'valid' && lock.value.session === record.session) return { state: 'taken', service }
    if (lock.state === 'valid') {
      const liveness = await judgeLease(kube, lock.value.lease, signal)
      return liveness.alive
        ? { state: 'held', lock: lock.value, liveness }
        : { state: 'stale', lock: lock.value, liveness }
    }
    if (readMeshRecord(annotations).state !== 'absent') throw meshedError(name)
    const selector = service.spec?.selector
    if (
      lock.state === 'corrupt' ||
      readOriginalSelector(annotations).state !== 'absent' ||
      pointsAtKtx(selector)
    ) {
      return { state: 'stale', lock: undefined, liveness: undefined }
    }
    requireSelector(kube, name, selector)
    const records: Record<string, string> = { [ANNOTATIONS.lock]: formatRecord(record) }
    if (record.mode === 'selector') {
      records[ANNOTATIONS.originalSelector] = formatRecord({ session: record.session, selector })
    }
    try {
      const patched = await patchService(
        kube,
        name,
        [...guard(service.metadata?.resourceVersion), ...annotationOps(annotations, records)],
        signal,
      )
      return { state: 'taken', service: patched }
    } catch (error) {
      if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error
    }
  }
}

/**
 * Points the Service's selector at `selector`, provided the session still holds the lock.
 * @returns false when the lock is no longer the session's (nothing was written).
 */
export async function switchSelector(
  kube: Kube,
  name: string,
  options: { readonly session: string; readonly selector: Readonly<Record<string, string>> },
  signal?: AbortSignal,
): Promise<boolean> {
  const result = await guardedUpdate(read(kube, name, signal), write(kube, name, signal), (service) => {
    const lock = readLock(service.metadata?.annotations)
    if (lock.state !== 'valid' || lock.value.session !== options.session) return undefined
    if (sameLabels(service.spec?.selector, options.selector)) return []
    return [{ op: 'replace', path: '/spec/selector', value: options.selector }]
  })
  return result === 'written'
}

/** What {@link repointService} found. */
export interface Repoint {
  /** `repointed`: ktx wrote; `unchanged`: nothing to do; `lost`: another session holds it now. */
  readonly outcome: 'repointed' | 'unchanged' | 'lost' | 'gone'
  /** The selector the Service had before the write. */
  readonly previous: Readonly<Record<string, string>> | undefined
}

/**
 * Brings a Service the session holds back to `selector` after someone re-applied it. A re-applied
 * selector becomes the new original (it is what its owner wants back after the session);
 * a Service whose ktx annotations were wiped (replaced, or deleted and created again) is locked
 * again. Another session's lock is left alone (`lost`).
 */
export async function repointService(
  kube: Kube,
  name: string,
  options: { readonly record: LockRecord; readonly selector: Readonly<Record<string, string>> },
  signal?: AbortSignal,
): Promise<Repoint> {
  const seen: { previous?: Readonly<Record<string, string>>; changed: boolean } = { changed: false }
  const { record } = options
  const result = await guardedUpdate(read(kube, name, signal), write(kube, name, signal), (service) => {
    const annotations = service.metadata?.annotations
    const lock = readLock(annotations)
    if (lock.state === 'valid' && lock.value.session !== record.session) return undefined
    const current = service.spec?.selector
    if (current !== undefined) seen.previous = current
    const records: Record<string, string> = {}
    if (lock.state !== 'valid') records[ANNOTATIONS.lock] = formatRecord(record)
    // What the user wants the Service to select: the re-applied selector without ktx's key (a
    // `kubectl apply` merges the two maps). It is what goes back when the session ends.
    const wanted = withoutKtx(current)
    const original = readOriginalSelector(annotations)
    const known =
      original.state === 'valid' && original.value.session === record.session
        ? original.value.selector
        : undefined
    if (Object.keys(wanted).length > 0 && !sameLabels(known, wanted)) {
      records[ANNOTATIONS.originalSelector] = formatRecord({ session: record.session, selector: wanted })
    }
    const ops: PatchOp[] = Object.keys(records).length > 0 ? annotationOps(annotations, records) : []
    if (!sameLabels(current, options.selector)) {
      ops.push({ op: 'replace', path: '/spec/selector', value: options.selector })
    }
    seen.changed = ops.length > 0
    return ops
  })
  const { previous } = seen
  if (result === 'gone') return { outcome: 'gone', previous }
  if (result === 'declined') return { outcome: 'lost', previous }
  return { outcome: seen.changed ? 'repointed' : 'unchanged', previous }
}

/** What {@link restoreService} did. */
export type RestoreOutcome = 'restored' | 'not-locked' | 'other-owner' | 'gone'

/**
 * Puts back the selector saved by one of `sessions` and, with `release`, removes their records
 * (and unreadable ones), leaving the Service as it was before. Only those sessions' records are
 * touched: a Service another session locked meanwhile is left alone (`other-owner`), so a caller
 * that judged some sessions dead never undoes a live one's work.
 */
export async function restoreService(
  kube: Kube,
  name: string,
  options: { readonly sessions: readonly string[]; readonly release: boolean },
  signal?: AbortSignal,
): Promise<RestoreOutcome> {
  let outcome: RestoreOutcome = 'not-locked'
  const mine = (session: string): boolean => options.sessions.includes(session)
  const result = await guardedUpdate(read(kube, name, signal), write(kube, name, signal), (service) => {
    const annotations = service.metadata?.annotations
    const lock = readLock(annotations)
    const original = readOriginalSelector(annotations)
    if (lock.state === 'valid' && !mine(lock.value.session)) {
      outcome = 'other-owner'
      return undefined
    }
    const ops: PatchOp[] = []
    const ours = original.state === 'valid' && mine(original.value.session)
    if (ours && !sameLabels(service.spec?.selector, original.value.selector)) {
      ops.push({ op: 'replace', path: '/spec/selector', value: original.value.selector })
    }
    if (options.release) {
      const drop: Record<string, undefined> = {}
      if (lock.state !== 'absent') drop[ANNOTATIONS.lock] = undefined
      if (ours || original.state === 'corrupt') drop[ANNOTATIONS.originalSelector] = undefined
      ops.push(...annotationOps(annotations, drop))
    }
    outcome = lock.state === 'absent' && original.state === 'absent' ? 'not-locked' : 'restored'
    return ops
  })
  return result === 'gone' ? 'gone' : outcome
}

function withoutKtx(selector: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(selector ?? {}).filter(([key]) => key !== EXCHANGE_LABEL))
}

/** True when a selector points at a ktx pod (left by a session that lost its records). */
export function pointsAtKtx(selector: Readonly<Record<string, string>> | undefined): boolean {
  return selector !== undefined && EXCHANGE_LABEL in selector
}

// A meshed Service's selector is the router's; exchanging it would save that as the original.
function meshedError(name: string): ConflictError {
  return new ConflictError(`Service "${name}" is meshed (ktx mesh routes it by header)`, {
    code: 'KTX_SERVICE_MESHED',
    suggestions: [
      'Use `ktx mesh` with your own --versionMark to share it, or wait until the meshes end.',
      '`ktx status --cluster` lists who meshes it; `ktx recover` puts it back once they are dead.',
    ],
  })
}

/** @throws KubeApiError `KTX_SERVICE_NO_SELECTOR` for a Service without a selector. */
export function requireSelector(
  kube: Kube,
  name: string,
  selector: Readonly<Record<string, string>> | undefined,
): asserts selector is Readonly<Record<string, string>> {
  if (selector !== undefined && Object.keys(selector).length > 0) return
  throw new KubeApiError(
    'KTX_SERVICE_NO_SELECTOR',
    `Service "${name}" in namespace "${kube.namespace}" has no selector (its endpoints are managed by hand), so ktx cannot redirect it`,
    { suggestions: ['Pick a Service that selects pods, or use `ktx preview` to publish a local port.'] },
  )
}

function read(kube: Kube, name: string, signal: AbortSignal | undefined) {
  return (): Promise<V1Service | undefined> => findService(kube, name, signal)
}

function write(kube: Kube, name: string, signal: AbortSignal | undefined) {
  return (ops: PatchOp[]): Promise<V1Service> => patchService(kube, name, ops, signal)
}
