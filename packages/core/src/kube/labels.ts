import { ANNOTATIONS, LABELS, MANAGED_BY } from '../contract.js'

/** Roles of ktx objects (`ktx.dev/role`). */
export type KtxRole = 'shadow' | 'session' | 'exchange' | 'preview' | 'mesh' | 'router' | 'stuntman'

/** The labels every ktx object of `sessionId` carries. */
export function sessionLabels(sessionId: string, role: KtxRole): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.session]: sessionId,
    [LABELS.role]: role,
  }
}

/**
 * ktx's labels for an object of `sessionId`, or, for an object several sessions share (undefined),
 * without the session label, so that no one session's clean-up selects it.
 */
export function ktxLabels(sessionId: string | undefined, role: KtxRole): Record<string, string> {
  if (sessionId !== undefined) return sessionLabels(sessionId, role)
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.role]: role }
}

/** The annotations every ktx object carries. */
export function sessionAnnotations(owner: string): Record<string, string> {
  return { [ANNOTATIONS.owner]: owner }
}

/** Label selector for every object of one session. */
export function sessionSelector(sessionId: string): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.session}=${sessionId}`
}
