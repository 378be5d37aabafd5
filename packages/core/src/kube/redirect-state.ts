/**
 * The records ktx writes onto a user's Service and workload while a session redirects them (pure).
 * They are the whole protocol `recover`, `clean` and the next ktx run rely on after a `kill -9`:
 *
 * - `ktx.dev/lock` on the Service (and the scaled workload): who holds it, and the Lease that tells
 *   whether that session is still alive;
 * - `ktx.dev/original-selector` on the Service: the selector to put back;
 * - `ktx.dev/original-replicas` on the workload: the replica count to put back.
 *
 * Every record names its session, so one session never restores what another one changed.
 */
import { ANNOTATIONS } from '../contract.js'

/** Who holds a Service (or workload) and how. */
export interface LockRecord {
  readonly session: string
  /** `user@host`. */
  readonly owner: string
  /** Name of the session's Lease in the same namespace; its renewTime says whether it is alive. */
  readonly lease: string
  readonly verb: 'exchange'
  readonly mode: 'selector' | 'scale'
  /** ISO time the lock was taken. */
  readonly since: string
  /** In scale mode, the workload scaled to 0. */
  readonly workload?: WorkloadRef
}

/** A Deployment or StatefulSet in the session's namespace. */
export interface WorkloadRef {
  readonly kind: 'Deployment' | 'StatefulSet'
  readonly name: string
}

/** The Service's selector before the session switched it. */
export interface OriginalSelector {
  readonly session: string
  readonly selector: Readonly<Record<string, string>>
}

/** The workload's replica count before the session scaled it to 0. */
export interface OriginalReplicas {
  readonly session: string
  readonly replicas: number
  /** The Service the session exchanged (for messages and `recover`). */
  readonly service: string
  /**
   * The count the session set (0), written with it: a workload found at any other count was
   * scaled by its owner meanwhile and is left alone. Absent before the session scaled it.
   */
  readonly scaledTo?: number
}

/** A Service `ktx mesh` pointed at its router: what to put back, and the shared objects. */
export interface MeshRecord {
  /** The router pod's name. */
  readonly router: string
  /** The stuntman Service's name (the original selector, for the router's fallback). */
  readonly stuntman: string
  /** The Service's selector before the first mesh session switched it. */
  readonly selector: Readonly<Record<string, string>>
  /** ISO time the first mesh session switched it. */
  readonly since: string
}

/** What a record annotation held: a valid record, nothing, or something ktx cannot read. */
export type Parsed<T> =
  | { readonly state: 'absent' }
  | { readonly state: 'valid'; readonly value: T }
  | { readonly state: 'corrupt'; readonly raw: string }

type Annotations = Readonly<Record<string, string>> | undefined

/** Reads the lock record from an object's annotations. */
export function readLock(annotations: Annotations): Parsed<LockRecord> {
  return parse(annotations?.[ANNOTATIONS.lock], isLockRecord)
}

/** Reads the original-selector record. */
export function readOriginalSelector(annotations: Annotations): Parsed<OriginalSelector> {
  return parse(annotations?.[ANNOTATIONS.originalSelector], isOriginalSelector)
}

/** Reads the original-replicas record. */
export function readOriginalReplicas(annotations: Annotations): Parsed<OriginalReplicas> {
  return parse(annotations?.[ANNOTATIONS.originalReplicas], isOriginalReplicas)
}

/** Reads the mesh record of a Service. */
export function readMeshRecord(annotations: Annotations): Parsed<MeshRecord> {
  return parse(annotations?.[ANNOTATIONS.mesh], isMeshRecord)
}

/** The annotation value for a record (stable key order, one line). */
export function formatRecord(record: LockRecord | OriginalSelector | OriginalReplicas | MeshRecord): string {
  return JSON.stringify(record)
}

/** True when two label maps hold the same pairs. */
export function sameLabels(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  const left = Object.entries(a ?? {})
  if (left.length !== Object.keys(b ?? {}).length) return false
  return left.every(([key, value]) => b?.[key] === value)
}

/** True when every pair of `selector` is in `labels` (an empty selector matches nothing here). */
export function selectorMatches(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const pairs = Object.entries(selector ?? {})
  return pairs.length > 0 && pairs.every(([key, value]) => labels?.[key] === value)
}

function parse<T>(raw: string | undefined, check: (value: unknown) => value is T): Parsed<T> {
  if (raw === undefined) return { state: 'absent' }
  try {
    const value: unknown = JSON.parse(raw)
    return check(value) ? { state: 'valid', value } : { state: 'corrupt', raw }
  } catch {
    return { state: 'corrupt', raw }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string')
}

function isLockRecord(value: unknown): value is LockRecord {
  if (!isObject(value)) return false
  const { session, owner, lease, verb, mode, since, workload } = value
  return (
    typeof session === 'string' &&
    typeof owner === 'string' &&
    typeof lease === 'string' &&
    verb === 'exchange' &&
    (mode === 'selector' || mode === 'scale') &&
    typeof since === 'string' &&
    (workload === undefined ||
      (isObject(workload) &&
        (workload.kind === 'Deployment' || workload.kind === 'StatefulSet') &&
        typeof workload.name === 'string'))
  )
}

function isOriginalSelector(value: unknown): value is OriginalSelector {
  return isObject(value) && typeof value.session === 'string' && isStringMap(value.selector)
}

function isMeshRecord(value: unknown): value is MeshRecord {
  return (
    isObject(value) &&
    typeof value.router === 'string' &&
    typeof value.stuntman === 'string' &&
    typeof value.since === 'string' &&
    isStringMap(value.selector)
  )
}

function isOriginalReplicas(value: unknown): value is OriginalReplicas {
  return (
    isObject(value) &&
    typeof value.session === 'string' &&
    typeof value.service === 'string' &&
    isCount(value.replicas) &&
    (value.scaledTo === undefined || isCount(value.scaledTo))
  )
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
}
