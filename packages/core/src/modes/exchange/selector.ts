/**
 * Selector mode: the Service's selector is switched to `ktx.dev/exchange=<session>`, the label only
 * the shadow pod carries. The switch counts as done when the Service's endpoints are exactly the
 * shadow pod; the undo puts the saved selector back and waits until the shadow has left the
 * endpoints, so callers are never sent to a pod that is about to go.
 */
import { EXCHANGE_LABEL } from '../../contract.js'
import { ConflictError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import type { LockRecord } from '../../kube/redirect-state.js'
import { restoreService, switchSelector } from '../../kube/service-lock.js'
import type { SetupContext } from '../shared/setup.js'
import { type ServiceGuard, startServiceGuard } from './guard.js'
import type { ExchangeTimeouts } from './options.js'
import { type RoutingProbe, confirmOrWarn } from '../shared/routing.js'

/** Switches the Service to the shadow pod and starts guarding it. Step `service.switch`. */
export async function switchServiceToShadow(
  ctx: SetupContext,
  kube: Kube,
  options: {
    readonly service: string
    readonly shadowIP: string
    readonly record: LockRecord
    readonly timeouts: ExchangeTimeouts
    /** Confirms the cluster's proxy follows the endpoints; undefined for a headless Service. */
    readonly probe: RoutingProbe | undefined
  },
): Promise<ServiceGuard> {
  const { service, shadowIP, timeouts, probe } = options
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
        async (signal) => {
          await restoreService(kube, service, { session: ctx.id, release: false }, signal)
          await waitServiceEndpoints(kube, {
            service,
            until: (ips) => !ips.has(shadowIP),
            awaited: 'its own pods',
            timeoutMs: timeouts.endpointsMs,
            signal,
          }).catch((error: unknown) => {
            if (signal.aborted) throw error
            ctx.emit({ type: 'warning', message: `Service ${service} restored, but ${messageOf(error)}` })
          })
          // The shadow keeps answering until the proxy has really moved the callers back.
          if (probe) {
            await confirmOrWarn(ctx, service, {
              ...probe,
              want: 'away',
              timeoutMs: timeouts.endpointsMs,
              signal,
            })
          }
        },
        { timeoutMs: 2 * timeouts.endpointsMs + timeouts.cleanupStepMs },
      )
      await waitServiceEndpoints(kube, {
        service,
        until: (ips) => ips.size === 1 && ips.has(shadowIP),
        awaited: `only the shadow pod (${shadowIP})`,
        timeoutMs: timeouts.endpointsMs,
        signal: ctx.signal,
      })
      if (probe) {
        await confirmOrWarn(ctx, service, {
          ...probe,
          want: 'shadow',
          timeoutMs: timeouts.endpointsMs,
          signal: ctx.signal,
        })
      }
    },
    service,
  )
  const guard = startServiceGuard(ctx, kube, { service, record: options.record, selector })
  ctx.stack.defer('stop watching the Service', () => guard.stop())
  return guard
}
