import { ANNOTATIONS, LABELS, MANAGED_BY } from '../contract.js'

/** Roles of ktx objects (`ktx.dev/role`). */
export type KtxRole = 'shadow' | 'session' | 'exchange' | 'preview'

/** The labels every ktx object of `sessionId` carries. */
export function sessionLabels(sessionId: string, role: KtxRole): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.session]: sessionId,
    [LABELS.role]: role,
  }
}

/** The annotations every ktx object carries. */
export function sessionAnnotations(owner: string): Record<string, string> {
  return { [ANNOTATIONS.owner]: owner }
}

/** Label selector for every object of one session. */
export function sessionSelector(sessionId: string): string {
  return `${LABELS.managedBy}=${MANAGED_BY},${LABELS.session}=${sessionId}`
}
