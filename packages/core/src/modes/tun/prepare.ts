/**
 * What TUN mode settles before the session takes anything in the cluster: the checks that need no
 * cluster (root, tun2socks, the device name), the host journal, and the route plan (conflicts stop
 * here).
 */
import type { Host } from '../../host/host.js'
import { type Journal, openJournal } from '../../host/journal.js'
import { identify } from '../../host/process.js'
import type { Kube } from '../../kube/client.js'
import { formatCidr } from '../../net/cidr.js'
import type { SetupContext } from '../shared/setup.js'
import type { ResolvedTunOptions } from './options.js'
import { type TunPreflight, preflightTun } from './preflight.js'
import { type TunRoutes, checkPlan, planTunRoutes } from './routes.js'

/** TUN mode's part of a session before the lease: checked, journalled, planned. */
export interface TunPrepared {
  readonly preflight: TunPreflight
  readonly journal: Journal
  readonly routes: TunRoutes
}

/**
 * Step `tun.preflight`: root, tun2socks and the device name, before the kubeconfig is even read, so
 * a user without root hears that first. Changes nothing.
 * @throws PermissionError `KTX_TUN_REQUIRES_ELEVATION`, HostError `KTX_TUN2SOCKS_NOT_FOUND` /
 *   `KTX_TUN2SOCKS_VERSION` / `KTX_TUN_NAME_TAKEN`.
 */
export function checkTunHost(
  ctx: SetupContext,
  input: { readonly host: Host; readonly stateDir: string; readonly tun: ResolvedTunOptions },
): Promise<TunPreflight> {
  return ctx.step('tun.preflight', () => preflightTun({ ...input, signal: ctx.signal }))
}

/**
 * Host journal (its removal registered last) → route plan (step `routes.plan`). Changes nothing on
 * this machine but the journal file.
 * @throws HostError `KTX_JOURNAL_FAILED` / `KTX_ROUTE_CONFLICT` / `KTX_CLUSTER_CIDR_UNKNOWN`.
 */
export async function prepareTun(
  ctx: SetupContext,
  preflight: TunPreflight,
  input: {
    readonly host: Host
    readonly stateDir: string
    readonly kube: Kube
    readonly tun: ResolvedTunOptions
  },
): Promise<TunPrepared> {
  const { host, stateDir, kube, tun } = input
  const journal = await openJournal({
    stateDir,
    session: ctx.id,
    owner: await identify(host, process.pid),
    // With the cluster side, so `ktx clean` can also remove the session's objects after a crash.
    cluster: { context: kube.context, namespace: kube.namespace, server: kube.server },
  })
  ctx.stack.defer('remove host journal', () => journal.close())
  const routes = await ctx.step('routes.plan', () =>
    planSessionRoutes(ctx, kube, { routeTable: preflight.routeTable, device: preflight.device, tun }),
  )
  return { preflight, journal, routes }
}

// Plans and stops on conflicts before anything is changed; accepted take-overs are logged.
async function planSessionRoutes(
  ctx: SetupContext,
  kube: Kube,
  where: Pick<TunPreflight, 'routeTable' | 'device'> & { readonly tun: ResolvedTunOptions },
): Promise<TunRoutes> {
  const routes = await planTunRoutes({
    kube,
    ...where,
    sessionId: ctx.id,
    logger: ctx.log,
    signal: ctx.signal,
  })
  checkPlan(routes.plan, routes.network)
  for (const conflict of routes.plan.conflicts) {
    ctx.log.warn('Taking over an existing route range (asked for with --includeIps)', {
      route: formatCidr(conflict.route),
      existing: formatCidr(conflict.existing.destination),
      device: conflict.existing.device,
    })
  }
  return routes
}
