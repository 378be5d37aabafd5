/**
 * The two waits around every move of a Service's traffic: until its endpoints are the shadow pod
 * and the cluster's proxy follows (set-up: a failure stops the session), and until they have left
 * it again (undo: a slow cluster is a warning, never a reason to skip the rest of the restore).
 */
import { messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import type { SetupContext } from '../shared/setup.js'
import type { ExchangeTimeouts } from './options.js'
import { type RoutingProbe, confirmOrWarn } from '../shared/routing.js'

/** A Service whose traffic moves to or from the shadow pod at `shadowIP`. */
export interface ShadowTraffic {
  readonly service: string
  /** Read when each wait starts (callers pass a getter that follows a replacement pod). */
  readonly shadowIP: string
  readonly timeouts: ExchangeTimeouts
  /** Confirms the cluster's proxy follows the endpoints; undefined for a headless Service. */
  readonly probe: RoutingProbe | undefined
}

/**
 * Waits until the endpoints are only the shadow pod, then confirms it through the proxy.
 * @throws TimeoutError when the endpoints do not get there in time, or `signal.reason`.
 */
export async function waitTrafficOnShadow(
  ctx: Pick<SetupContext, 'emit' | 'log'>,
  kube: Kube,
  traffic: ShadowTraffic,
  signal: AbortSignal,
): Promise<void> {
  const { service, shadowIP, timeouts, probe } = traffic
  await waitServiceEndpoints(kube, {
    service,
    until: (ips) => ips.size === 1 && ips.has(shadowIP),
    awaited: `only the shadow pod (${shadowIP})`,
    timeoutMs: timeouts.endpointsMs,
    signal,
  })
  if (probe) {
    await confirmOrWarn(ctx, service, { ...probe, want: 'shadow', timeoutMs: timeouts.endpointsMs, signal })
  }
}

/**
 * Waits until the endpoints no longer hold the shadow pod, then until the proxy has moved callers
 * off it; either running out of time is a warning (prefixed with `done`, what the undo achieved).
 * @throws only `signal.reason`.
 */
export async function waitTrafficAway(
  ctx: Pick<SetupContext, 'emit' | 'log'>,
  kube: Kube,
  traffic: ShadowTraffic & { readonly awaited: string; readonly done?: string },
  signal: AbortSignal,
): Promise<void> {
  const { service, shadowIP, timeouts, probe } = traffic
  await waitServiceEndpoints(kube, {
    service,
    until: (ips) => !ips.has(shadowIP),
    awaited: traffic.awaited,
    timeoutMs: timeouts.endpointsMs,
    signal,
  }).catch((error: unknown) => {
    if (signal.aborted) throw error
    ctx.emit({ type: 'warning', message: `${traffic.done ?? ''}${messageOf(error)}` })
  })
  // The shadow keeps answering until the proxy has really moved the callers back.
  if (probe) {
    await confirmOrWarn(ctx, service, { ...probe, want: 'away', timeoutMs: timeouts.endpointsMs, signal })
  }
}
