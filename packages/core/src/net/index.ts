/** Network building blocks: CIDR maths, the route plan, the route table, tun2socks. */
export {
  type Cidr,
  compareCidr,
  contains,
  formatAddress,
  formatCidr,
  merge,
  overlaps,
  parseAddress,
  parseCidr,
  parseCidrList,
  subtract,
  tryParseCidr,
} from './cidr.js'
export {
  type CidrSource,
  type ExcludeReason,
  type ExcludedCidr,
  type ExistingRoute,
  type RouteConflict,
  type RoutePlan,
  type RoutePlanInput,
  type SourcedCidr,
  cidrsFromSample,
  planRoutes,
} from './route-plan.js'
export type { HostChange } from '../host/change.js'
export { openRouteTable } from './routes/index.js'
export type { LinkState, LocalAddress, RouteTable } from './routes/types.js'
export {
  TUN2SOCKS_MIN_VERSION,
  TUN2SOCKS_VERSION,
  type Tun2socksBinary,
  findTun2socks,
  installSuggestions,
} from './tun/binary.js'
export {
  type Tun2socksOptions,
  type Tun2socksProcess,
  startTun2socks,
  tun2socksArgv,
} from './tun/tun2socks.js'
export { type Host, realHost } from '../host/host.js'
