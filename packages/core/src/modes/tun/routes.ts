/**
 * The route plan for a session: the cluster's ranges (discovered), the user's include/exclude,
 * and this machine's addresses and routes. Conflicts stop the session before anything is changed.
 */
import { HostError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { Kube } from '../../kube/client.js'
import { type ClusterNetwork, discoverClusterNetwork } from '../../kube/cluster-network.js'
import { formatCidr } from '../../net/cidr.js'
import { type ExcludedCidr, type RoutePlan, planRoutes } from '../../net/route-plan.js'
import type { RouteTable } from '../../net/routes/types.js'
import type { ResolvedTunOptions } from './options.js'

/** The discovered network and the plan made from it. */
export interface TunRoutes {
  readonly network: ClusterNetwork
  readonly plan: RoutePlan
}

/** Discovers the cluster network and plans the routes through `device`. Changes nothing. */
export async function planTunRoutes(options: {
  readonly kube: Kube
  readonly routeTable: RouteTable
  readonly device: string
  readonly tun: ResolvedTunOptions
  readonly sessionId: string
  readonly logger: Logger
  readonly signal?: AbortSignal
}): Promise<TunRoutes> {
  const { routeTable, signal } = options
  const [network, existing, local] = await Promise.all([
    discoverClusterNetwork(options.kube, {
      logger: options.logger,
      sessionId: options.sessionId,
      ...(signal ? { signal } : {}),
    }),
    routeTable.listRoutes(signal),
    routeTable.localAddresses(signal),
  ])
  const localNever: ExcludedCidr[] = local.flatMap((a) => [
    { cidr: a.subnet, reason: 'local-subnet' as const },
    { cidr: a.address, reason: 'local-subnet' as const },
  ])
  const plan = planRoutes({
    services: network.services,
    pods: network.pods,
    include: options.tun.include,
    exclude: options.tun.exclude,
    never: [...network.never, ...localNever],
    existing,
    device: options.device,
  })
  return { network, plan }
}

/**
 * @throws HostError `KTX_ROUTE_CONFLICT` listing each planned route that overlaps an existing one
 *   (unless asked for with `--includeIps`), or `KTX_CLUSTER_CIDR_UNKNOWN` when nothing would be routed.
 */
export function checkPlan(plan: RoutePlan, network: ClusterNetwork): void {
  const blocking = plan.conflicts.filter((c) => c.blocking)
  if (blocking.length > 0) {
    const lines = blocking.map(
      (c) =>
        `${formatCidr(c.route)} overlaps the existing route ${formatCidr(c.existing.destination)} dev ${c.existing.device}${c.existing.gateway ? ` via ${c.existing.gateway}` : ''}`,
    )
    throw new HostError(
      'KTX_ROUTE_CONFLICT',
      `Planned routes conflict with this machine's routes: ${lines.join('; ')}`,
      {
        suggestions: [
          ...blocking.map((c) => `Leave it alone: --excludeIps ${formatCidr(c.existing.destination)}`),
          'Or take the range over deliberately: --includeIps <range>.',
          'See the whole plan with --dryRun.',
        ],
        data: { conflicts: lines },
      },
    )
  }
  if (plan.routes.length === 0) {
    throw new HostError('KTX_CLUSTER_CIDR_UNKNOWN', 'No cluster IP range to route', {
      suggestions: ['Pass the ranges with --includeIps <cidr,…>.', 'See what was found with --dryRun.'],
      data: { notes: network.notes },
    })
  }
}
