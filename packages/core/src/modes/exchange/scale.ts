/**
 * Scale mode: the shadow pod takes the workload's pod labels (so the Service, and label-based
 * routing like Istio subsets, select it as one of the workload's pods), then the workload is scaled
 * to 0. The labels are added only once the reverse forwards listen, so the shadow never receives
 * a caller it cannot answer. For the rest of the session the workload is watched and kept at 0
 * (`workload-watch.ts`). The undo stops the watch, scales the workload back, waits until its pods
 * are Ready (bounded by `timeouts.recoverWaitMs`), then takes the labels off the shadow and waits
 * until the Service's traffic has left it, before the shadow's forwards stop and the pod goes.
 */
import { EXCHANGE_LABEL, LABELS } from '../../contract.js'
import { ConflictError, UsageError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import { patchPodLabels } from '../../kube/pod-labels.js'
import { describeRestore, restoreWorkload, scaleWorkload } from '../../kube/workload-lock.js'
import { type Workload, describeWorkload, waitWorkloadReady } from '../../kube/workload.js'
import type { SetupContext } from '../shared/setup.js'
import { type ShadowTraffic, waitTrafficAway, waitTrafficOnShadow } from './traffic.js'
import { type WorkloadWatch, startWorkloadWatch } from './workload-watch.js'

const KTX_KEYS = new Set<string>([...Object.values(LABELS), EXCHANGE_LABEL])

/**
 * The labels the shadow takes from the workload's pod template: all but ktx's own keys.
 * @throws UsageError when the Service selects on one of ktx's own label keys (it could never match).
 */
export function workloadLabelsFor(
  service: string,
  selector: Readonly<Record<string, string>> | undefined,
  workload: Workload,
): Record<string, string> {
  const labels = Object.fromEntries(
    Object.entries(workload.templateLabels).filter(([key]) => !KTX_KEYS.has(key)),
  )
  const clash = Object.keys(selector ?? {}).filter((key) => KTX_KEYS.has(key))
  if (clash.length > 0) {
    throw new UsageError(
      `Service "${service}" selects on ${clash.join(', ')}, a label ktx sets on its own pods`,
      {
        suggestions: ['Use --mode selector for this Service.'],
      },
    )
  }
  return labels
}

/**
 * Moves the Service's traffic from the workload to the shadow and keeps the workload at 0. Steps
 * `service.switch`, `workload.scale`.
 */
export async function scaleToShadow(
  ctx: SetupContext,
  kube: Kube,
  options: ShadowTraffic & {
    readonly workload: Workload
    readonly labels: Readonly<Record<string, string>>
    readonly pod: string
  },
): Promise<WorkloadWatch> {
  await ctx.step('service.switch', () => joinWorkloadPods(ctx, kube, options), options.service)
  const what = describeWorkload(options.workload.ref)
  return ctx.step('workload.scale', () => scaleWorkloadAway(ctx, kube, options), what)
}

// The shadow takes the pod labels and waits to be one of the Service's endpoints. Its undo runs
// after the workload is back: the shadow leaves the Service before its forwards stop, so no caller
// meets a shadow that no longer answers.
async function joinWorkloadPods(
  ctx: SetupContext,
  kube: Kube,
  options: ShadowTraffic & { readonly labels: Readonly<Record<string, string>>; readonly pod: string },
): Promise<void> {
  const { service, shadowIP, pod, labels, timeouts } = options
  await patchPodLabels(kube, pod, labels, { signal: ctx.signal })
  ctx.stack.defer(
    'take the shadow pod out of the Service',
    async (signal, unwind) => {
      // options.pod, not the pod of set-up: the tunnel may have moved to a replacement since.
      await patchPodLabels(kube, options.pod, labels, { remove: true, signal })
      await unwind.wait((waitSignal) =>
        waitTrafficAway(
          ctx,
          kube,
          { ...options, awaited: `exclude the shadow pod (${shadowIP})` },
          waitSignal,
        ),
      )
    },
    { timeoutMs: 2 * timeouts.endpointsMs + timeouts.cleanupStepMs },
  )
  await waitServiceEndpoints(kube, {
    service,
    until: (ips) => ips.has(shadowIP),
    awaited: `include the shadow pod (${shadowIP})`,
    timeoutMs: timeouts.endpointsMs,
    signal: ctx.signal,
  })
}

// Scales the workload to 0 (its undo scales it back and waits for it), waits until the Service's
// traffic is the shadow's alone, then starts watching the workload.
async function scaleWorkloadAway(
  ctx: SetupContext,
  kube: Kube,
  options: ShadowTraffic & { readonly workload: Workload },
): Promise<WorkloadWatch> {
  const { workload, timeouts } = options
  const what = describeWorkload(workload.ref)
  const scaled = await scaleWorkload(kube, workload.ref, { session: ctx.id, replicas: 0 }, ctx.signal)
  if (!scaled.written) {
    throw new ConflictError(`${what} is no longer locked by this session`, {
      code: 'KTX_SERVICE_LOST',
      suggestions: ['Someone recovered or took it over meanwhile; run the command again.'],
    })
  }
  // The count this session saw in its own record when it scaled (or, once the watch re-scaled, the
  // owner's newer one): what it puts back, even if the record is changed meanwhile.
  const saved = scaled.saved ?? workload.replicas
  const watching: { watch?: WorkloadWatch } = {}
  ctx.stack.defer(
    `scale ${what} back`,
    async (signal, unwind) => {
      const restored = await restoreWorkload(
        kube,
        workload.ref,
        { sessions: [ctx.id], release: false, saved: watching.watch?.restoreTo() ?? saved },
        signal,
      )
      for (const message of describeRestore(what, restored)) ctx.emit({ type: 'warning', message })
      const replicas = restored.replicas
      if (replicas === undefined) return
      await unwind.wait((waitSignal) =>
        waitWorkloadReady(kube, workload.ref, {
          replicas,
          timeoutMs: timeouts.recoverWaitMs,
          signal: waitSignal,
        }).catch((error: unknown) => {
          if (waitSignal.aborted) throw error
          ctx.emit({ type: 'warning', message: `${what} scaled back, but ${messageOf(error)}` })
        }),
      )
    },
    { timeoutMs: timeouts.recoverWaitMs + timeouts.cleanupStepMs },
  )
  await waitTrafficOnShadow(ctx, kube, options, ctx.signal)
  const started = startWorkloadWatch(ctx, kube, { workload, saved, service: options.service })
  watching.watch = started
  ctx.stack.defer(`stop watching ${what}`, () => started.stop())
  return started
}
