/**
 * Keeps a scale-mode workload at 0 for the life of the session: it watches the Deployment or
 * StatefulSet (never the shadow pod, which may be replaced under another name) and answers each
 * change as `workload-drift.ts` decides: re-scale with a warning, or end the session. Bounded by its
 * AbortSignal; a watch that fails (an API-server restart) starts over with a fresh list, which also
 * catches what changed while it was down.
 */
import { ConflictError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { keepWatching } from '../../kube/watch.js'
import { scaleWorkload } from '../../kube/workload-lock.js'
import {
  type AppsObject,
  type Workload,
  describeWorkload,
  oneWorkloadCollection,
  toWorkload,
} from '../../kube/workload.js'
import { sleep } from '../../util/sleep.js'
import type { SetupContext } from '../shared/setup.js'
import { judgeDrift } from './workload-drift.js'

/** A running workload watch. {@link WorkloadWatch.stop} before scaling the workload back. */
export interface WorkloadWatch {
  /** Resolves with the reason once the session can no longer hold the workload; never rejects. */
  readonly lost: Promise<Error>
  /** The count to put back at the end: the saved one, or the owner's newer choice. */
  restoreTo(): number
  /** Stops watching and waits for a re-scale in flight to finish. */
  stop(): Promise<void>
}

// Re-scales are at least this far apart, so ktx and an autoscaler that keeps writing its count do
// not flap at API speed.
const MIN_RESCALE_INTERVAL_MS = 1_000

/** Starts watching `workload` (as the session scaled it to 0; `saved` is the count to put back). */
export function startWorkloadWatch(
  ctx: SetupContext,
  kube: Kube,
  options: { readonly workload: Workload; readonly saved: number; readonly service: string },
): WorkloadWatch {
  const { workload, service } = options
  const what = describeWorkload(workload.ref)
  const scaled = { workload, session: ctx.id }
  const stopper = new AbortController()
  const signal = AbortSignal.any([stopper.signal, ctx.signal])
  let restoreTo = options.saved
  let resolveLost: (error: Error) => void = () => undefined
  const lost = new Promise<Error>((resolve) => (resolveLost = resolve))
  const end = (message: string): void => {
    resolveLost(new ConflictError(message, { code: 'KTX_WORKLOAD_LOST', suggestions: suggestionsFor(what) }))
    stopper.abort()
  }

  let latest: Workload | undefined
  let listedIt = false
  let queue = Promise.resolve()
  let pending = false
  let lastRescale = 0

  const rescale = async (): Promise<void> => {
    const wait = lastRescale + MIN_RESCALE_INTERVAL_MS - Date.now()
    if (wait > 0) await sleep(wait, signal)
    const result = await scaleWorkload(
      kube,
      workload.ref,
      { session: ctx.id, replicas: 0, adoptCurrent: true },
      signal,
    )
    if (!result.written) {
      end(`${what} is no longer locked by this session; this exchange has ended`)
      return
    }
    const found = result.replaced
    if (found === undefined) return
    lastRescale = Date.now()
    restoreTo = result.saved ?? found
    ctx.log.warn('Workload was scaled up under the session; scaled it to 0 again', { workload: what, found })
    ctx.emit({
      type: 'warning',
      message: `${what} was scaled to ${String(found)} during the session (kubectl scale or apply, an autoscaler); ktx scaled it to 0 again so that only this session serves ${service}, and puts ${String(restoreTo)} back when it ends.`,
    })
  }
  const react = (): void => {
    if (signal.aborted) return
    const drift = judgeDrift(scaled, latest)
    if (drift.action === 'end') end(drift.message)
    if (drift.action !== 'rescale' || pending) return
    pending = true
    queue = queue
      .then(() => {
        pending = false
        return rescale()
      })
      .catch(async (error: unknown) => {
        if (signal.aborted) return
        ctx.log.warn('Scaling the workload to 0 again failed; retrying', {
          workload: what,
          error: messageOf(error),
        })
        await sleep(MIN_RESCALE_INTERVAL_MS, signal).catch(() => undefined)
        react()
      })
  }

  const watching = keepWatching<AppsObject>(kube, {
    ...oneWorkloadCollection(kube, workload.ref),
    signal,
    onRelist: () => (listedIt = false),
    onEvent: (type, object) => {
      latest = type === 'DELETED' ? undefined : toWorkload(workload.ref.kind, object)
      if (type === 'SYNC') listedIt = true
      else react()
    },
    // A list without the workload means it was deleted while the watch was down.
    onSynced: () => {
      if (!listedIt) latest = undefined
      react()
    },
    onError: (error, retryMs) => {
      ctx.log.warn('Watching the workload failed; retrying', {
        workload: what,
        error: messageOf(error),
        retryMs,
      })
    },
  })

  return {
    lost,
    restoreTo: () => restoreTo,
    async stop() {
      stopper.abort()
      await watching
      await queue
    },
  }
}

function suggestionsFor(what: string): string[] {
  return [
    `ktx put back what was still its own; check it: kubectl get ${what}`,
    'Run the exchange again once the workload is what you want.',
  ]
}
