/** Options of `connect()`: the SOCKS5/HTTP proxies and, in TUN mode, the device, routes and DNS. */
import { UsageError } from '../../errors.js'
import { type ProxyCredentials, generateCredentials } from '../../tunnel/proxy-auth.js'
import type { Host } from '../../host/host.js'
import {
  type BaseOptions,
  DEFAULTS,
  type ListenOptions,
  type ResolvedBaseOptions,
  parsePort,
  resolveBaseOptions,
} from '../../options.js'
import {
  type DnsOptions,
  type ResolvedDnsOptions,
  type ResolvedTunOptions,
  type TunOptions,
  resolveDnsOptions,
  resolveTunOptions,
} from '../tun/options.js'

/** Options of {@link connect}. */
export interface ConnectOptions extends BaseOptions {
  /**
   * `socks` (default here; no root): a SOCKS5 and an HTTP proxy on this machine, DNS resolved in
   * the cluster. `tun` (root): the same plus a TUN device, routes and local DNS, so every program
   * reaches the cluster.
   */
  readonly mode?: 'socks' | 'tun'
  /** TUN mode: device, tun2socks binary, include/exclude ranges. */
  readonly tun?: TunOptions
  /** TUN mode: how names resolve. */
  readonly dns?: DnsOptions
  /**
   * ktx's state directory (the host journal, `bin/`). Default: `/var/lib/ktx` (macOS `/var/db/ktx`)
   * as root, `~/.ktx` otherwise (see host/state-dir.ts).
   */
  readonly stateDir?: string
  /** This machine (injected by tests). Default: the real one. */
  readonly host?: Host
  /** The SOCKS5 listener. Default `127.0.0.1:0`. */
  readonly socks?: ListenOptions
  /** The HTTP proxy listener. Default `127.0.0.1:0`. */
  readonly http?: ListenOptions
  /**
   * Socks mode: the SOCKS5 proxy requires a username and password (RFC 1929) and the HTTP proxy
   * `Proxy-Authorization: Basic`, so other users of this machine cannot use the session's cluster
   * identity. `true`: fresh ones for the session (in `session.socks.credentials`); or your own.
   * Required to listen on an address other than loopback.
   */
  readonly proxyAuth?: boolean | ProxyCredentials
  /**
   * How connections reach the cluster. `direct` (default): one port-forward each to the agent,
   * every request signed with the session key, SSH only where that fails; about half the CPU per
   * byte of `ssh`: every connection a channel of the one SSH connection (one port-forward for all).
   */
  readonly dataPath?: DataPath
}

/** See {@link ConnectOptions.dataPath}. */
export type DataPath = 'direct' | 'ssh'
/** Every {@link DataPath}; the first is the default. */
export const DATA_PATHS: readonly DataPath[] = ['direct', 'ssh']

/** {@link ConnectOptions} with defaults filled in and values checked. */
export interface ResolvedConnectOptions extends ResolvedBaseOptions {
  readonly mode: 'socks' | 'tun'
  readonly tun: ResolvedTunOptions
  readonly dns: ResolvedDnsOptions
  readonly stateDir: string | undefined
  readonly host: Host | undefined
  readonly socks: Required<ListenOptions>
  readonly http: Required<ListenOptions>
  readonly proxyCredentials: ProxyCredentials | undefined
  readonly dataPath: DataPath
}

/**
 * Validates and fills defaults. Pure apart from reading the local user/host name for `owner`.
 * @throws UsageError (`KTX_OPTION_INVALID`) naming the bad option.
 */
export function resolveConnectOptions(options: ConnectOptions = {}): Readonly<ResolvedConnectOptions> {
  const mode = options.mode ?? 'socks'
  if ((mode as string) !== 'socks' && (mode as string) !== 'tun') {
    throw new UsageError(`Unsupported connect mode "${mode as string}"`, {
      suggestions: [
        'Use mode "tun" (root; every program reaches the cluster) or "socks" (no root; proxies).',
      ],
    })
  }
  const dataPath = options.dataPath ?? 'direct'
  if (!DATA_PATHS.includes(dataPath)) {
    throw new UsageError(`Unsupported data path "${dataPath as string}"`, {
      suggestions: [`Use one of ${DATA_PATHS.join(', ')}.`],
    })
  }
  const socks = resolveListen('socks', options.socks, DEFAULTS.socksPort)
  const http = resolveListen('http', options.http, DEFAULTS.httpPort)
  return Object.freeze({
    ...resolveBaseOptions(options, DEFAULTS.timeouts),
    mode,
    tun: resolveTunOptions(options.tun),
    dns: resolveDnsOptions(options.dns),
    stateDir: options.stateDir,
    host: options.host,
    socks,
    http,
    proxyCredentials: resolveProxyAuth(mode, options.proxyAuth, [socks.host, http.host]),
    dataPath,
  })
}

// Off loopback, anyone who reaches the address would use this user's cluster identity: only with
// credentials. TUN mode refuses them: tun2socks would need the password on its command line, and
// its routes serve every program on this machine anyway.
function resolveProxyAuth(
  mode: 'socks' | 'tun',
  proxyAuth: ConnectOptions['proxyAuth'],
  hosts: readonly string[],
): ProxyCredentials | undefined {
  const credentials = proxyAuth === true ? generateCredentials() : proxyAuth === false ? undefined : proxyAuth
  if (credentials && mode === 'tun') {
    throw new UsageError('proxyAuth applies to socks mode only', {
      suggestions: [
        'Use --mode socks --proxyAuth, or tun mode without it (its routes serve every program here anyway).',
      ],
    })
  }
  if (credentials && !usableCredentials(credentials)) {
    throw new UsageError(
      'proxyAuth needs a non-empty username and password of at most 255 bytes each, and no ":" in the username',
      { suggestions: ['Use proxyAuth: true for generated ones.'] },
    )
  }
  const exposed = hosts.filter((host) => !isLoopback(host))
  if (exposed.length > 0 && credentials === undefined) {
    throw new UsageError(
      `Listening on ${exposed.join(', ')} would let anyone who reaches it use your cluster identity`,
      { suggestions: ['Add proxyAuth (CLI: --proxyAuth), or listen on 127.0.0.1.'] },
    )
  }
  return credentials
}

// RFC 1929 carries each in one length byte; HTTP Basic splits at the first colon.
function usableCredentials(credentials: ProxyCredentials): boolean {
  const fits = (value: unknown): boolean =>
    typeof value === 'string' && value !== '' && Buffer.byteLength(value, 'utf8') <= 255
  return fits(credentials.username) && fits(credentials.password) && !credentials.username.includes(':')
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function resolveListen(
  name: string,
  listen: ListenOptions | undefined,
  port: number,
): Required<ListenOptions> {
  const host = listen?.host ?? DEFAULTS.listenHost
  if (host.trim() === '') throw new UsageError(`${name}.host must not be empty`)
  return Object.freeze({ host, port: parsePort(`${name}.port`, listen?.port ?? port) })
}
