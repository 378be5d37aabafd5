/**
 * `connect --dryRun`: the route plan TUN mode would apply, with nothing changed on this machine or
 * in the cluster.
 */
import { realHost } from '../../host/host.js'
import type { ClusterNetwork } from '../../kube/cluster-network.js'
import type { RoutePlan } from '../../net/route-plan.js'
import { openRouteTable } from '../../net/routes/index.js'
import { createSetupContext } from '../shared/setup.js'
import { openKube } from '../shared/shadow-tunnel.js'
import { defaultDeviceName } from '../tun/options.js'
import { planTunRoutes } from '../tun/routes.js'
import { type ConnectOptions, resolveConnectOptions } from './options.js'

/** What `--dryRun` shows. */
export interface RoutePlanReport {
  readonly device: string
  readonly plan: RoutePlan
  readonly network: ClusterNetwork
}

/**
 * The route plan `connect({ mode: 'tun' })` would apply, without changing anything (`--dryRun`):
 * needs no root, no tun2socks and creates nothing in the cluster (the Service range probe is a
 * dry-run create).
 * @throws UsageError / ConfigError / PermissionError / TunnelError `KTX_KUBE_UNREACHABLE`.
 */
export async function planConnectRoutes(options: ConnectOptions = {}): Promise<RoutePlanReport> {
  const opts = resolveConnectOptions({ ...options, mode: 'tun' })
  const ctx = createSetupContext(opts)
  try {
    const kube = await openKube(ctx, opts.kube, opts.timeouts.kubeRequestMs)
    const host = opts.host ?? realHost()
    const routeTable = openRouteTable(host)
    const device = opts.tun.device ?? defaultDeviceName(host.platform)
    const { network, plan } = await ctx.step('routes.plan', () =>
      planTunRoutes({
        kube,
        routeTable,
        device,
        tun: opts.tun,
        sessionId: ctx.id,
        logger: ctx.log,
        signal: ctx.signal,
      }),
    )
    await ctx.stack.unwind()
    return { device, plan, network }
  } catch (error) {
    throw await ctx.fail(error)
  }
}
