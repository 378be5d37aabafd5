/**
 * JSON Patch (RFC 6902) builders for the writes ktx makes to other people's objects. Only the
 * fields ktx owns are touched, so a patch never rewrites fields this client's models do not know;
 * and every patch can carry a resourceVersion guard, which makes the API server refuse it with
 * 409 Conflict when the object changed since it was read (optimistic concurrency).
 */

/** One JSON Patch operation. */
export type PatchOp =
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }

/** Escapes a map key for a JSON Pointer path segment (`/` → `~1`, `~` → `~0`). */
export function pointerKey(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}

/**
 * The guard: the patched object gets this resourceVersion, which the API server checks against
 * the stored one (409 Conflict when they differ). Without a version there is nothing to guard.
 */
export function guard(resourceVersion: string | undefined): PatchOp[] {
  if (resourceVersion === undefined || resourceVersion === '') return []
  return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }]
}

/**
 * Operations that set (string) or delete (undefined) annotations on an object whose current
 * annotations are `current`. Creates the map when it is missing and removes it when ktx's
 * deletions would leave it empty, so an object ends exactly as it was before ktx touched it.
 */
export function annotationOps(
  current: Readonly<Record<string, string>> | undefined,
  changes: Readonly<Record<string, string | undefined>>,
): PatchOp[] {
  const next: Record<string, string> = { ...current }
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(next, key)
    else next[key] = value
  }
  if (current === undefined) {
    return Object.keys(next).length === 0 ? [] : [{ op: 'add', path: '/metadata/annotations', value: next }]
  }
  if (Object.keys(next).length === 0) return [{ op: 'remove', path: '/metadata/annotations' }]
  const ops: PatchOp[] = []
  for (const [key, value] of Object.entries(changes)) {
    const path = `/metadata/annotations/${pointerKey(key)}`
    if (value !== undefined) ops.push({ op: key in current ? 'replace' : 'add', path, value })
    else if (key in current) ops.push({ op: 'remove', path })
  }
  return ops
}

/** Operations that add (or overwrite) labels on an object whose current labels are `current`. */
export function labelOps(
  current: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): PatchOp[] {
  if (current === undefined) return [{ op: 'add', path: '/metadata/labels', value: { ...labels } }]
  return Object.entries(labels).map(([key, value]) => ({
    op: key in current ? 'replace' : 'add',
    path: `/metadata/labels/${pointerKey(key)}`,
    value,
  }))
}
