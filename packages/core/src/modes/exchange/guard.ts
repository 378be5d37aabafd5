/**
 * Keeps an exchanged Service pointed at the shadow pod: a CD pipeline or a teammate re-applying
 * the Service puts its selector back, which would silently send callers to the real pods again.
 * The guard watches the Service (bounded by its AbortSignal; no immortal loops) and re-points it,
 * saying so; a Service another session took over ends the session.
 */
import type { V1Service } from '@kubernetes/client-node'

import { ConflictError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { judgeLease } from '../../kube/liveness.js'
import { type LockRecord, readLock, sameLabels } from '../../kube/redirect-state.js'
import { repointService } from '../../kube/service-lock.js'
import { findService, oneServiceCollection } from '../../kube/service.js'
import { keepWatching } from '../../kube/watch.js'
import { sleep } from '../../util/sleep.js'
import type { SetupContext } from '../shared/setup.js'

/** A running guard. {@link ServiceGuard.stop} before restoring the Service. */
export interface ServiceGuard {
  /** Resolves with the reason if the Service is lost to another session; never rejects. */
  readonly lost: Promise<Error>
  /** Stops watching and waits for a re-point in flight to finish. */
  stop(): Promise<void>
}

/** What the guard keeps true: `service` carries `record`'s lock and selects `selector`. */
export interface GuardedService {
  readonly service: string
  readonly record: LockRecord
  readonly selector: Readonly<Record<string, string>>
}

// Re-points are at least this far apart, so ktx and a controller that keeps reverting the Service
// do not flap at API speed.
const MIN_REPOINT_INTERVAL_MS = 1_000

/** Starts guarding `service` for the session that holds it with `record`. */
export function startServiceGuard(ctx: SetupContext, kube: Kube, guarded: GuardedService): ServiceGuard {
  const { service } = guarded
  const stopper = new AbortController()
  const signal = AbortSignal.any([stopper.signal, ctx.signal])
  let resolveLost: (error: Error) => void = () => undefined
  const lost = new Promise<Error>((resolve) => (resolveLost = resolve))
  const repointer = new Repointer(ctx, kube, guarded, signal, (message) => {
    resolveLost(serviceLost(message))
    stopper.abort()
  })

  const watching = keepWatching<V1Service>(kube, {
    ...oneServiceCollection(kube, service),
    signal,
    onEvent: (type, object) => {
      if (type === 'DELETED') {
        ctx.emit({
          type: 'warning',
          message: `Service ${service} was deleted; ktx will point it at you again if it comes back`,
        })
        return
      }
      const lock = readLock(object.metadata?.annotations)
      const ours =
        lock.state === 'valid' &&
        lock.value.session === guarded.record.session &&
        sameLabels(object.spec?.selector, guarded.selector)
      if (!ours) repointer.schedule({ lockGone: lock.state !== 'valid' })
    },
    onError: (error, retryMs) => {
      ctx.log.warn('Watching the Service failed; retrying', { service, error: messageOf(error), retryMs })
    },
  })

  return {
    lost,
    async stop() {
      stopper.abort()
      await watching
      await repointer.idle()
    },
  }
}

function serviceLost(message: string): ConflictError {
  return new ConflictError(message, {
    code: 'KTX_SERVICE_LOST',
    suggestions: ['Someone ran `ktx recover --force` or exchanged it after this session stopped renewing.'],
  })
}

// Re-points one at a time, in the order the changes were seen, spaced by MIN_REPOINT_INTERVAL_MS.
class Repointer {
  private queue = Promise.resolve()
  private lastRepoint = 0

  constructor(
    private readonly ctx: SetupContext,
    private readonly kube: Kube,
    private readonly guarded: GuardedService,
    private readonly signal: AbortSignal,
    private readonly loseTo: (message: string) => void,
  ) {}

  schedule(change: { readonly lockGone: boolean }): void {
    this.queue = this.queue
      .then(() => this.repoint(change.lockGone))
      .catch((error: unknown) => {
        if (!this.signal.aborted) {
          this.ctx.log.warn('Re-pointing the Service failed', {
            service: this.guarded.service,
            error: messageOf(error),
          })
        }
      })
  }

  idle(): Promise<void> {
    return this.queue
  }

  private async repoint(lockGone: boolean): Promise<void> {
    const { ctx, kube, signal } = this
    const { service, record, selector } = this.guarded
    const wait = this.lastRepoint + MIN_REPOINT_INTERVAL_MS - Date.now()
    if (wait > 0) await sleep(wait, signal)
    // A Service without our lock was either replaced (lock it again) or recovered by force, which
    // deletes this session's Lease first: then it is not ours to take back.
    if (lockGone && !(await judgeLease(kube, record.lease, signal)).alive) {
      this.loseTo(
        `Service "${service}" was recovered while this session ran (its lease was deleted); this exchange has ended`,
      )
      return
    }
    const result = await repointService(kube, service, { record, selector }, signal)
    if (result.outcome === 'repointed') {
      this.lastRepoint = Date.now()
      ctx.log.warn('Service was changed under the session; pointed it at the shadow pod again', { service })
      ctx.emit({ type: 'service.repointed', service, previous: { ...result.previous } })
    } else if (result.outcome === 'lost') {
      const holder = readLock((await findService(kube, service, signal))?.metadata?.annotations)
      const who =
        holder.state === 'valid'
          ? `${holder.value.owner} (session ${holder.value.session})`
          : 'another session'
      this.loseTo(`Service "${service}" was taken over by ${who}; this exchange has ended`)
    }
  }
}
