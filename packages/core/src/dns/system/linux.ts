/**
 * Linux. With systemd-resolved (resolv.conf points at its 127.0.0.53 stub and `resolvectl`
 * works), ktx's server becomes the per-link DNS server of the TUN device with routing domains
 * (`~cluster.local ~svc ~<ns>`), so only cluster names reach it; it listens on an address of the
 * TUN device because resolved sends per-link queries through that link (a loopback address is
 * unreachable from there: systemd#25397). Otherwise `/etc/resolv.conf` is rewritten in place (it
 * may be a bind mount or a symlink target) to ktx's server on 127.0.0.153:53, with the cluster's
 * search domains first; the original servers stay ktx's upstream, asked first for every name that
 * is not the cluster's.
 */
import { HostError, isKtxError } from '../../errors.js'
import type { HostChange } from '../../host/change.js'
import type { Host } from '../../host/host.js'
import { parseCidr } from '../../net/cidr.js'
import type { ServerAddress } from '../transport.js'
import type { ResolverSetupOptions, SystemResolver, SystemResolverPlan } from './types.js'
import { generatedMarker } from './marker.js'

export const RESOLV_CONF = '/etc/resolv.conf'
const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf'
const RESOLVED_STUB = '127.0.0.53'
/** Where ktx's DNS server listens when resolv.conf points at it (port 53 is implied there). */
export const LINUX_DNS_HOST = '127.0.0.153'
/** The TUN address ktx's DNS server listens on under systemd-resolved (link-local, never routed). */
export const RESOLVED_DNS_HOST = '169.254.83.53'

/** The parts of resolv.conf ktx keeps. */
export interface ResolvConf {
  readonly nameservers: readonly string[]
  readonly search: readonly string[]
  readonly options: readonly string[]
}

/** Parses resolv.conf (`domain` counts as a one-entry search list, as glibc treats it). */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = []
  let search: string[] = []
  const options: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim()
    const [keyword, ...values] = line.split(/\s+/)
    if (keyword === 'nameserver' && values[0]) nameservers.push(values[0])
    else if (keyword === 'search' || keyword === 'domain') search = values
    else if (keyword === 'options') options.push(...values)
  }
  return { nameservers, search, options }
}

/** The resolv.conf ktx writes: its server only, the cluster's search domains first. */
export function renderResolvConf(
  original: ResolvConf,
  options: { session: string; host: string; search: readonly string[] },
): string {
  const search = [...options.search, ...original.search.filter((d) => !options.search.includes(d))]
  return [
    generatedMarker(options.session),
    `nameserver ${options.host}`,
    ...(search.length > 0 ? [`search ${search.join(' ')}`] : []),
    ...(original.options.length > 0 ? [`options ${original.options.join(' ')}`] : []),
    '',
  ].join('\n')
}

/** The Linux resolver. */
export function linuxResolver(host: Host): SystemResolver {
  return {
    async plan(options, signal) {
      const current = await host.readFile(RESOLV_CONF)
      if (!current) {
        throw new HostError(
          'KTX_DNS_UPSTREAM_UNKNOWN',
          `${RESOLV_CONF} does not exist, so ktx cannot point it at its DNS server`,
          {
            suggestions: ['Create it, or use --dnsMode hosts (or none).'],
          },
        )
      }
      const parsed = parseResolvConf(current.toString('utf8'))
      if (parsed.nameservers.includes(RESOLVED_STUB) && (await hasResolvectl(host, signal))) {
        return resolvedPlan(host, options)
      }
      return resolvConfPlan(host, options, current, parsed)
    },
  }
}

async function hasResolvectl(host: Host, signal?: AbortSignal): Promise<boolean> {
  try {
    await host.run('resolvectl', ['status', '--no-pager'], {
      timeoutMs: 5_000,
      ...(signal ? { signal } : {}),
    })
    return true
  } catch (error) {
    if (signal?.aborted) throw signal.reason
    if (isKtxError(error)) return false
    throw error
  }
}

function resolvConfPlan(
  host: Host,
  options: ResolverSetupOptions,
  current: Buffer,
  parsed: ResolvConf,
): SystemResolverPlan {
  const listenHost = options.listenHost ?? LINUX_DNS_HOST
  return {
    kind: 'resolv.conf',
    upstream: toServers(parsed.nameservers.filter((ns) => ns !== listenHost)),
    listen: { host: listenHost, port: 53 },
    changes: (bound) => {
      const written = renderResolvConf(parsed, {
        session: options.session,
        host: bound.host,
        search: options.searchDomains,
      })
      return [
        {
          description: `${RESOLV_CONF} → ktx DNS ${bound.host}`,
          undo: {
            op: 'restore-file',
            path: RESOLV_CONF,
            original: current.toString('base64'),
            written: Buffer.from(written).toString('base64'),
          },
          apply: () => host.replaceFile(RESOLV_CONF, written),
        },
      ]
    },
  }
}

async function resolvedPlan(host: Host, options: ResolverSetupOptions): Promise<SystemResolverPlan> {
  const upstreamFile = await host.readFile(RESOLVED_UPSTREAM)
  const upstream = upstreamFile ? parseResolvConf(upstreamFile.toString('utf8')).nameservers : []
  const listenHost = options.listenHost ?? RESOLVED_DNS_HOST
  return {
    kind: 'systemd-resolved',
    upstream: toServers(upstream.filter((ns) => ns !== RESOLVED_STUB)),
    listen: { host: listenHost, port: 53 },
    tunAddress: parseCidr(listenHost),
    changes: (bound): HostChange[] => [
      {
        description: `systemd-resolved: ${options.device} → ktx DNS ${bound.host}`,
        undo: {
          op: 'run',
          argv: ['resolvectl', 'revert', options.device],
          alreadyDone: ['Failed to resolve interface', 'No such device', 'Unknown interface'],
        },
        async apply(signal) {
          const run = (args: string[]) => host.run('resolvectl', args, signal ? { signal } : {})
          await run(['dns', options.device, bound.host])
          await run([
            'domain',
            options.device,
            ...options.searchDomains,
            ...options.routingDomains.map((d) => `~${d}`),
          ])
          // Only the routing domains come to ktx; everything else keeps its usual servers.
          await run(['default-route', options.device, 'false'])
        },
      },
    ],
  }
}

function toServers(nameservers: readonly string[]): ServerAddress[] {
  return nameservers.map((ns) => ({ host: ns.replace(/%.*$/, ''), port: 53 }))
}
