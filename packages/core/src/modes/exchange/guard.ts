/**
 * Keeps an exchanged Service pointed at the shadow pod: a CD pipeline or a teammate re-applying
 * the Service puts its selector back, which would silently send callers to the real pods again.
 * The guard watches the Service (bounded by its AbortSignal; no immortal loops) and re-points it,
 * saying so; a Service another session took over ends the session.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { V1Service } from '@kubernetes/client-node'

import { ConflictError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { judgeLease } from '../../kube/liveness.js'
import { type LockRecord, readLock, sameLabels } from '../../kube/redirect-state.js'
import { repointService } from '../../kube/service-lock.js'
import { findService } from '../../kube/service.js'
import { watchObjects } from '../../kube/watch.js'
import type { SetupContext } from '../shared/setup.js'

/** A running guard. {@link ServiceGuard.stop} before restoring the Service. */
export interface ServiceGuard {
  /** Resolves with the reason if the Service is lost to another session; never rejects. */
  readonly lost: Promise<Error>
  /** Stops watching and waits for a re-point in flight to finish. */
  stop(): Promise<void>
}

// Re-points are at least this far apart, so ktx and a controller that keeps reverting the Service
// do not flap at API speed.
const MIN_REPOINT_INTERVAL_MS = 1_000
const MAX_RETRY_DELAY_MS = 30_000

/** Starts guarding `service` for the session that holds it with `record`. */
export function startServiceGuard(
  ctx: SetupContext,
  kube: Kube,
  options: {
    readonly service: string
    readonly record: LockRecord
    readonly selector: Readonly<Record<string, string>>
  },
): ServiceGuard {
  const { service, record, selector } = options
  const namespace = kube.namespace
  const stopper = new AbortController()
  const signal = AbortSignal.any([stopper.signal, ctx.signal])
  let resolveLost: (error: Error) => void = () => undefined
  const lost = new Promise<Error>((resolve) => (resolveLost = resolve))
  let queue = Promise.resolve()
  let lastRepoint = 0

  const loseTo = (message: string): void => {
    resolveLost(
      new ConflictError(message, {
        code: 'KTX_SERVICE_LOST',
        suggestions: [
          'Someone ran `ktx recover --force` or exchanged it after this session stopped renewing.',
        ],
      }),
    )
    stopper.abort()
  }
  const repoint = async (lockGone: boolean): Promise<void> => {
    const wait = lastRepoint + MIN_REPOINT_INTERVAL_MS - Date.now()
    if (wait > 0) await delay(wait, undefined, { signal })
    // A Service without our lock was either replaced (lock it again) or recovered by force, which
    // deletes this session's Lease first: then it is not ours to take back.
    if (lockGone && !(await judgeLease(kube, record.lease, signal)).alive) {
      loseTo(
        `Service "${service}" was recovered while this session ran (its lease was deleted); this exchange has ended`,
      )
      return
    }
    const result = await repointService(kube, service, { record, selector }, signal)
    if (result.outcome === 'repointed') {
      lastRepoint = Date.now()
      ctx.log.warn('Service was changed under the session; pointed it at the shadow pod again', { service })
      ctx.emit({ type: 'service.repointed', service, previous: { ...result.previous } })
    } else if (result.outcome === 'lost') {
      const holder = readLock((await findService(kube, service, signal))?.metadata?.annotations)
      const who =
        holder.state === 'valid'
          ? `${holder.value.owner} (session ${holder.value.session})`
          : 'another session'
      loseTo(`Service "${service}" was taken over by ${who}; this exchange has ended`)
    }
  }
  const consider = (type: string, object: V1Service): void => {
    if (type === 'DELETED') {
      ctx.emit({
        type: 'warning',
        message: `Service ${service} was deleted; ktx will point it at you again if it comes back`,
      })
      return
    }
    const lock = readLock(object.metadata?.annotations)
    const fine =
      lock.state === 'valid' &&
      lock.value.session === record.session &&
      sameLabels(object.spec?.selector, selector)
    if (fine) return
    const lockGone = lock.state !== 'valid'
    queue = queue
      .then(() => repoint(lockGone))
      .catch((error: unknown) => {
        if (!signal.aborted)
          ctx.log.warn('Re-pointing the Service failed', { service, error: messageOf(error) })
      })
  }

  const stopped = (): boolean => signal.aborted
  const loop = (async () => {
    for (let retryMs = 1_000; !stopped(); retryMs = Math.min(retryMs * 2, MAX_RETRY_DELAY_MS)) {
      try {
        await watchObjects<V1Service>(kube, {
          path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`,
          resource: 'services',
          fieldSelector: `metadata.name=${service}`,
          list: (s) =>
            kube.call(
              { verb: 'list', resource: 'services', namespace },
              (o) =>
                kube.core.listNamespacedService({ namespace, fieldSelector: `metadata.name=${service}` }, o),
              s,
            ),
          onEvent: consider,
          onSynced: () => (retryMs = 1_000),
          signal,
        })
      } catch (error) {
        if (stopped()) break
        ctx.log.warn('Watching the Service failed; retrying', { service, error: messageOf(error), retryMs })
        await delay(retryMs, undefined, { signal }).catch(() => undefined)
      }
    }
  })()

  return {
    lost,
    async stop() {
      stopper.abort()
      await loop
      await queue
    },
  }
}
