/**
 * Whether the name a preview wants is free. No Service: free. A Service that is not ktx's preview
 * (the user's own, an exchanged one): refused, nothing is touched. A preview Service of a session
 * that still runs: refused, naming its owner. A preview Service a dead session left (`kill -9`, a
 * lost laptop): its objects are deleted and the name is taken over, as exchange takes over a
 * Service a dead session left; the caller is told so with a warning.
 */
import { ConflictError } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { describeLastAlive } from '../../kube/liveness.js'
import { originOf } from '../../kube/preview-service.js'
import { findService } from '../../kube/service.js'
import { deleteSessionObjects, sessionStatus } from '../../kube/sessions.js'
import type { SetupContext } from '../shared/setup.js'

/** What a claim found. */
export interface NameClaim {
  /**
   * The ClusterIP of the dead preview's Service that was taken over: asking for it again keeps
   * callers working whose DNS still caches the old address (CoreDNS: up to 30 s).
   */
  readonly clusterIP: string | undefined
}

/**
 * Makes sure no Service `name` stands in the way, taking over a dead preview's.
 * @throws ConflictError `KTX_SERVICE_EXISTS` (not ktx's) or `KTX_SERVICE_LOCKED` (a live preview).
 */
export async function claimServiceName(ctx: SetupContext, kube: Kube, name: string): Promise<NameClaim> {
  const existing = await findService(kube, name, ctx.signal)
  if (existing === undefined) return { clusterIP: undefined }
  const origin = originOf(existing)
  if (origin.kind === 'foreign') throw nameTaken(kube, name, existing.spec?.type)
  const status = await sessionStatus(kube, origin.session, { owner: origin.owner, signal: ctx.signal })
  const lastAlive = describeLastAlive(status.liveness)
  const owner = origin.owner ?? 'an unknown owner'
  if (status.liveness.alive) {
    throw new ConflictError(
      `Service "${name}" is already a preview of ${owner} (session ${origin.session}), ${lastAlive}`,
      {
        code: 'KTX_SERVICE_LOCKED',
        suggestions: [
          `Pick another name, or ask ${owner} to stop that preview.`,
          'ktx takes the name over by itself once that session stops renewing its lease.',
        ],
        data: { owner: origin.owner, session: origin.session },
      },
    )
  }
  // The Service carries the session's labels, so it goes with the session's pod and Lease (and
  // at once: garbage collection after a Lease deletion lags).
  await deleteSessionObjects(kube, origin.session, ctx.signal)
  ctx.emit({
    type: 'warning',
    message: `Service ${name} was left by preview session ${origin.session} of ${owner} (${lastAlive}); deleted it and its shadow pod before taking the name over`,
  })
  const clusterIP = existing.spec?.clusterIP
  return {
    clusterIP: clusterIP === undefined || clusterIP === '' || clusterIP === 'None' ? undefined : clusterIP,
  }
}

function nameTaken(kube: Kube, name: string, type: string | undefined): ConflictError {
  return new ConflictError(
    `A Service "${name}" already exists in namespace "${kube.namespace}" and was not made by ktx preview`,
    {
      code: 'KTX_SERVICE_EXISTS',
      suggestions: [
        'Pick another name for the preview; ktx never replaces a Service it did not make.',
        `To send that Service's callers to this machine instead, use: ktx exchange ${name} -n ${kube.namespace} --expose …`,
      ],
      data: { service: name, namespace: kube.namespace, type },
    },
  )
}
