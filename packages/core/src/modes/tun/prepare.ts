/**
 * What TUN mode settles before the session takes anything in the cluster: the checks that need no
 * cluster (root, tun2socks, the device name), the host journal, and the route plan (conflicts stop
 * here). Also the `--dryRun` plan, which is the same planning with nothing made.
 */
import { type Host, realHost } from '../../host/host.js'
import { type Journal, openJournal } from '../../host/journal.js'
import { identify } from '../../host/process.js'
import type { Kube } from '../../kube/client.js'
import type { ClusterNetwork } from '../../kube/cluster-network.js'
import { formatCidr } from '../../net/cidr.js'
import type { RoutePlan } from '../../net/route-plan.js'
import { openRouteTable } from '../../net/routes/index.js'
import { type ConnectOptions, resolveConnectOptions } from '../connect/options.js'
import { type SetupContext, createSetupContext } from '../shared/setup.js'
import { openKube } from '../shared/shadow-tunnel.js'
import { type ResolvedTunOptions, defaultDeviceName } from './options.js'
import { type TunPreflight, preflightTun } from './preflight.js'
import { type TunRoutes, checkPlan, planTunRoutes } from './routes.js'

/** TUN mode's part of a session before the lease: checked, journalled, planned. */
export interface TunPrepared {
  readonly preflight: TunPreflight
  readonly journal: Journal
  readonly routes: TunRoutes
}

/**
 * Preflight (step `tun.preflight`) → host journal (its removal registered last) → route plan
 * (step `routes.plan`). Changes nothing on this machine but the journal file.
 * @throws PermissionError `KTX_TUN_REQUIRES_ELEVATION`, HostError `KTX_TUN2SOCKS_NOT_FOUND` /
 *   `KTX_TUN2SOCKS_VERSION` / `KTX_TUN_NAME_TAKEN` / `KTX_JOURNAL_FAILED` / `KTX_ROUTE_CONFLICT` /
 *   `KTX_CLUSTER_CIDR_UNKNOWN`.
 */
export async function prepareTun(
  ctx: SetupContext,
  input: {
    readonly host: Host
    readonly stateDir: string
    readonly kube: Kube
    readonly tun: ResolvedTunOptions
  },
): Promise<TunPrepared> {
  const { host, stateDir, kube, tun } = input
  const preflight = await ctx.step('tun.preflight', () =>
    preflightTun({ host, stateDir, tun, signal: ctx.signal }),
  )
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
