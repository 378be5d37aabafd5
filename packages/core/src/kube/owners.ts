/**
 * Shared ownership: an object several sessions use (the mesh router, its stuntman Service) lists
 * each session's Lease in its ownerReferences. The garbage collector deletes it only once every
 * owner is gone, so it lives exactly as long as any of its sessions, whoever came first.
 */
import type { V1OwnerReference } from '@kubernetes/client-node'

import { guardedUpdate } from './guarded-update.js'
import type { PatchOp } from './json-patch.js'

/** An object with owners, as read. */
export interface Owned {
  readonly metadata?: {
    readonly resourceVersion?: string | undefined
    readonly ownerReferences?: readonly V1OwnerReference[] | undefined
    readonly deletionTimestamp?: Date | undefined
  }
}

/** Read and patch of one object, for {@link addOwner} / {@link removeOwner}. */
export interface OwnedAccess<T extends Owned> {
  readonly read: () => Promise<T | undefined>
  readonly patch: (ops: PatchOp[]) => Promise<unknown>
}

/**
 * Adds `owner` (by uid) to the object's ownerReferences with a guarded write.
 * @returns `added` (or already there), `gone` (no object, or it is being deleted: make a new one).
 */
export async function addOwner<T extends Owned>(
  access: OwnedAccess<T>,
  owner: V1OwnerReference,
): Promise<'added' | 'gone'> {
  // Declined only for an object being deleted.
  const outcome = await guardedUpdate(access.read, access.patch, (object) => {
    if (object.metadata?.deletionTimestamp) return undefined
    const owners = object.metadata?.ownerReferences
    if (owners?.some((o) => o.uid === owner.uid)) return []
    return owners === undefined
      ? [{ op: 'add', path: '/metadata/ownerReferences', value: [owner] }]
      : [{ op: 'add', path: '/metadata/ownerReferences/-', value: owner }]
  })
  return outcome === 'written' ? 'added' : 'gone'
}

/**
 * Removes the owner with `uid` with a guarded write.
 * @returns the owners left (empty when the object is gone), and the resourceVersion written, for a
 *   delete that must not win over a newcomer.
 */
export async function removeOwner<T extends Owned>(
  access: OwnedAccess<T>,
  uid: string,
): Promise<{ readonly remaining: readonly V1OwnerReference[]; readonly resourceVersion?: string }> {
  let remaining: readonly V1OwnerReference[] = []
  await guardedUpdate(access.read, access.patch, (object) => {
    const owners = object.metadata?.ownerReferences ?? []
    remaining = owners.filter((o) => o.uid !== uid)
    const index = owners.findIndex((o) => o.uid === uid)
    return index < 0 ? [] : [{ op: 'remove', path: `/metadata/ownerReferences/${index}` }]
  })
  const after = await access.read()
  return {
    remaining: after?.metadata?.ownerReferences ?? remaining,
    ...(after?.metadata?.resourceVersion ? { resourceVersion: after.metadata.resourceVersion } : {}),
  }
}
