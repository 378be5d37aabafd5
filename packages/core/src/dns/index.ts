/** DNS building blocks: the local server, the resolver plan, exchanges, hosts block, system setup. */
export { DnsCache, type DnsCacheOptions } from './cache.js'
export {
  type DnsTransport,
  DnsTransportError,
  type ServerAddress,
  type StreamTransportOptions,
  type UdpTransportOptions,
  createStreamTransport,
  createUdpTransport,
} from './transport.js'
export { type DnsRequestHandler, type ForwarderOptions, createForwarder } from './forwarder.js'
export {
  type HostsEntry,
  type ServiceAddress,
  addHostsBlock,
  defaultHostsPath,
  hostsEntries,
  hostsMarkers,
  updateHostsBlock,
  withHostsBlock,
} from './hosts-file.js'
export {
  type LookupStep,
  type LookupTarget,
  type ResolverConfig,
  planLookup,
  searchDomains,
} from './resolver.js'
export { type DnsServer, type DnsServerOptions, startDnsServer } from './server.js'
export { openSystemResolver } from './system/index.js'
export type { ResolverSetupOptions, SystemResolver, SystemResolverPlan } from './system/types.js'
export { Packet, type Question, RCODE, buildQuery, frame, FrameReader } from './wire.js'
