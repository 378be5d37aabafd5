/**
 * Selector mode: the Service's selector is switched to `ktx.dev/exchange=<session>`, the label only
 * the shadow pod carries. The switch counts as done when the Service's endpoints are exactly the
 * shadow pod; the undo puts the saved selector back and waits until the shadow has left the
 * endpoints, so callers are never sent to a pod that is about to go.
 */
import { EXCHANGE_LABEL } from '../../contract.js'
import { ConflictError } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import type { LockRecord } from '../../kube/redirect-state.js'
import { restoreService, switchSelector } from '../../kube/service-lock.js'
import type { SetupContext } from '../shared/setup.js'
import { type ServiceGuard, startServiceGuard } from './guard.js'
import { type ShadowTraffic, waitTrafficAway, waitTrafficOnShadow } from './traffic.js'

/** Switches the Service to the shadow pod and starts guarding it. Step `service.switch`. */
export async function switchServiceToShadow(
  ctx: SetupContext,
  kube: Kube,
  options: ShadowTraffic & { readonly record: LockRecord },
): Promise<ServiceGuard> {
  const { service } = options
  const selector = { [EXCHANGE_LABEL]: ctx.id }
  await ctx.step(
    'service.switch',
    async () => {
      const switched = await switchSelector(kube, service, { session: ctx.id, selector }, ctx.signal)
      if (!switched) {
        throw new ConflictError(`Service "${service}" is no longer locked by this session`, {
          code: 'KTX_SERVICE_LOST',
          suggestions: ['Someone recovered or took it over meanwhile; run the command again.'],
        })
      }
      ctx.stack.defer(
        'restore the Service selector',
        async (signal, unwind) => {
          await restoreService(kube, service, { sessions: [ctx.id], release: false }, signal)
          await unwind.wait((waitSignal) =>
            waitTrafficAway(
              ctx,
              kube,
              { ...options, awaited: 'its own pods', done: `Service ${service} restored, but ` },
              waitSignal,
            ),
          )
        },
        { timeoutMs: 2 * options.timeouts.endpointsMs + options.timeouts.cleanupStepMs },
      )
      await waitTrafficOnShadow(ctx, kube, options, ctx.signal)
    },
    service,
  )
  const guard = startServiceGuard(ctx, kube, { service, record: options.record, selector })
  ctx.stack.defer('stop watching the Service', () => guard.stop())
  return guard
}
