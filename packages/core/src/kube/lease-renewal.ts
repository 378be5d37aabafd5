/**
 * The heartbeat of a session Lease. One renewal at a time: the next is scheduled when the last
 * has settled, so slow API calls never pile up into renewals racing each other for the same
 * resourceVersion. A renewal that loses a race anyway (409) reads the Lease again and retries at
 * once; one that fails (timeout, 5xx, a dropped connection) is retried after a short backoff
 * instead of waiting a whole period. Failure is reported only when the Lease is really at risk:
 * less than a third of its duration left since the last renewal that worked, or the Lease gone.
 */
import { V1MicroTime } from '@kubernetes/client-node'

import type { Logger } from '../logger.js'
import { backoff } from '../util/sleep.js'
import type { Kube } from './client.js'
import { isConflict } from './guarded-update.js'

/** Options of {@link startLeaseRenewal}. */
export interface LeaseRenewalOptions {
  readonly name: string
  readonly durationSeconds: number
  readonly logger: Logger
  /**
   * The Lease is at risk (it lapses within a third of its duration unless a renewal works), or it
   * is gone; called once per outage.
   */
  readonly onRenewFailed?: (error: unknown) => void
}

/** A running heartbeat; {@link LeaseRenewal.stop} ends it (and aborts a renewal in flight). */
export interface LeaseRenewal {
  stop(): void
}

// A renewal that keeps losing races to other writers gives up after this many rounds and is
// retried like any other failure.
const CONFLICT_ROUNDS = 5

/** Starts renewing `options.name` every third of its duration, on unref'd timers. */
export function startLeaseRenewal(kube: Kube, options: LeaseRenewalOptions): LeaseRenewal {
  const durationMs = options.durationSeconds * 1_000
  const periodMs = Math.max(1_000, durationMs / 3)
  const retryFirstMs = Math.min(250, periodMs / 4)
  const retryMaxMs = Math.max(retryFirstMs, Math.min(2_000, periodMs / 2))
  const stopped = new AbortController()
  const log = options.logger
  let lastRenewed = performance.now()
  let retries: Generator<number, never> | undefined
  let reported = false
  let timer: NodeJS.Timeout | undefined

  const schedule = (delayMs: number): void => {
    if (stopped.signal.aborted) return
    timer = setTimeout(() => void tick(), delayMs)
    timer.unref()
  }
  const report = (error: unknown): void => {
    if (reported) return
    reported = true
    options.onRenewFailed?.(error)
  }
  const tick = async (): Promise<void> => {
    try {
      await renewOnce(kube, options.name, stopped.signal)
    } catch (error) {
      if (stopped.signal.aborted) return
      log.warn('Lease renewal failed', { error })
      if (isGone(error)) {
        // Deleted: a forced recover or clean ended this session; no renewal can bring it back.
        report(error)
        return
      }
      if (performance.now() - lastRenewed >= (durationMs * 2) / 3) report(error)
      retries ??= backoff(retryFirstMs, retryMaxMs)
      schedule(retries.next().value)
      return
    }
    if (reported) log.info('Lease renewed again')
    lastRenewed = performance.now()
    retries = undefined
    reported = false
    log.debug('Lease renewed')
    schedule(periodMs)
  }
  schedule(periodMs)

  return {
    stop() {
      stopped.abort()
      clearTimeout(timer)
    },
  }
}

// Read, move renewTime, replace; a 409 (someone wrote since the read) reads again.
async function renewOnce(kube: Kube, name: string, signal: AbortSignal): Promise<void> {
  const namespace = kube.namespace
  for (let round = 1; ; round++) {
    const current = await kube.call(
      { verb: 'get', resource: 'leases', namespace, name },
      (o) => kube.coordination.readNamespacedLease({ name, namespace }, o),
      signal,
    )
    current.spec = { ...current.spec, renewTime: new V1MicroTime() }
    try {
      await kube.call(
        { verb: 'update', resource: 'leases', namespace, name },
        (o) => kube.coordination.replaceNamespacedLease({ name, namespace, body: current }, o),
        signal,
      )
      return
    } catch (error) {
      if (!isConflict(error) || round >= CONFLICT_ROUNDS) throw error
    }
  }
}

function isGone(error: unknown): boolean {
  const { status, code } = error as { status?: unknown; code?: unknown }
  return status === 404 || code === 'KTX_KUBE_NAMESPACE_NOT_FOUND'
}
