/**
 * `connect({ mode: 'socks' })`: this machine reaches cluster Pod IPs, ClusterIPs and DNS names
 * through local SOCKS5 and HTTP proxies.
 *
 * Setup, each step's undo registered the moment it succeeds:
 *   kube client → session Lease (renewed) → shadow pod (owned by the Lease) → pod Ready (watched)
 *   → port-forward WebSocket to the agent's SSH port → SSH handshake → SOCKS5 → HTTP proxy.
 * Teardown runs the same list backwards: HTTP proxy, SOCKS5, SSH, port-forward, delete the pod
 * (and wait until it is gone), delete the Lease. If any setup step fails, everything already made
 * is removed before the error is thrown.
 *
 * `mode: 'tun'` adds a check before the kubeconfig (`tun/prepare.ts`: root, tun2socks, device
 * name), one step before the lease (the host journal, the route plan; conflicts stop there) and one after the proxies listen
 * (`tun/layer.ts`: the TUN device, tun2socks, routes and DNS, probed).
 */
import type { Agent as HttpAgent } from 'node:http'
import type { Agent as HttpsAgent } from 'node:https'

import { type Dispatcher, ProxyAgent } from 'undici'

import { type Host, realHost } from '../host/host.js'
import { type ConnectOptions, resolveConnectOptions } from './connect/options.js'
import type { ProxyEndpoint, Session } from '../session.js'
import { startHttpProxy } from '../tunnel/http-proxy.js'
import { basicAuthorization } from '../tunnel/proxy-auth.js'
import { startSocks5 } from '../tunnel/socks5.js'
import { TunnelHttpAgent, TunnelHttpsAgent } from '../tunnel/tunnel-agent.js'
import { hostStateDir } from '../host/state-dir.js'
import { buildSessionHandle } from './shared/session-handle.js'
import { createSetupContext } from './shared/setup.js'
import { openKube, openLease, openShadowTunnel } from './shared/shadow-tunnel.js'
import { type TunInfo, type TunLayer, startTun } from './tun/layer.js'
import { checkTunHost, prepareTun } from './tun/prepare.js'

/** A ready `connect` session. Close it (or `await using` it) to remove everything it made. */
export interface ConnectSession extends Session {
  /** The SOCKS5 proxy (`socks5h://`: names resolve in the cluster). */
  readonly socks: ProxyEndpoint
  /** The HTTP proxy (CONNECT and absolute-URI requests). */
  readonly http: ProxyEndpoint
  /** Name of the shadow pod. */
  readonly pod: string
  /** An `http.Agent` whose requests go through the session. */
  readonly httpAgent: HttpAgent
  /** An `https.Agent` whose requests go through the session (TLS end to end). */
  readonly httpsAgent: HttpsAgent
  /** An undici dispatcher (ProxyAgent on the HTTP proxy) for `fetch(url, { dispatcher })`. */
  readonly dispatcher: Dispatcher
  /** TUN mode: the device, routes, DNS setup and what the readiness probes saw. */
  readonly tun?: TunInfo
}

/**
 * Connects this machine to the cluster network in SOCKS mode. Resolves once the proxies accept
 * connections; rejects after removing whatever it had created.
 * @throws UsageError / ConfigError (kubeconfig, context, missing namespace) / PermissionError
 *   (RBAC, naming verb and resource) / TunnelError `KTX_KUBE_UNREACHABLE` / KubeApiError
 *   (`KTX_SHADOW_IMAGE_PULL`, `KTX_SHADOW_CRASHED`) / TimeoutError `KTX_SHADOW_NOT_READY` /
 *   TunnelError (port-forward, SSH) / HostError `KTX_LISTEN_FAILED`, or `signal.reason` if aborted.
 *   TUN mode also: PermissionError `KTX_TUN_REQUIRES_ELEVATION`, HostError `KTX_TUN2SOCKS_NOT_FOUND`
 *   / `KTX_TUN2SOCKS_VERSION` / `KTX_TUN_NAME_TAKEN` / `KTX_ROUTE_CONFLICT` / `KTX_CLUSTER_CIDR_UNKNOWN`
 *   / `KTX_JOURNAL_FAILED`, ExternalCommandError (`ip`, `resolvectl`), TunnelError
 *   `KTX_TUN2SOCKS_EXITED` / `KTX_TUNNEL_PROBE_FAILED` / `KTX_DNS_PROBE_FAILED`.
 */
export async function connect(options: ConnectOptions = {}): Promise<ConnectSession> {
  const opts = resolveConnectOptions(options)
  const ctx = createSetupContext(opts)
  const { stack, step } = ctx
  try {
    const tunHost =
      opts.mode === 'tun' ? withStateDir(opts.host ?? realHost(), opts.stateDir, opts.tun) : undefined
    const preflight = tunHost ? await checkTunHost(ctx, tunHost) : undefined
    const kube = await openKube(ctx, opts.kube, opts.timeouts.kubeRequestMs)
    const namespace = kube.namespace
    ctx.log.info('Connecting', { context: kube.context, namespace, server: kube.server })
    const tunPrepared =
      tunHost && preflight ? await prepareTun(ctx, preflight, { ...tunHost, kube }) : undefined
    const lease = await openLease(ctx, kube, {
      verb: 'connect',
      owner: opts.owner,
      durationSeconds: opts.leaseDurationSeconds,
    })
    const tunnel = await openShadowTunnel(ctx, kube, lease, {
      spec: { name: `ktx-shadow-${ctx.id}`, owner: opts.owner, image: opts.image },
      timeouts: opts.timeouts,
      directPath: opts.dataPath === 'direct',
    })

    const credentials = opts.proxyCredentials ? { credentials: opts.proxyCredentials } : {}
    const socks = await step('socks.listen', () =>
      startSocks5({ dialer: tunnel, ...opts.socks, ...credentials, logger: ctx.log }),
    )
    stack.defer('stop socks5 proxy', () => socks.close())
    const http = await step('http.listen', () =>
      startHttpProxy({ dialer: tunnel, ...opts.http, ...credentials, logger: ctx.log }),
    )
    stack.defer('stop http proxy', () => http.close())

    const httpAgent = new TunnelHttpAgent(socks)
    const httpsAgent = new TunnelHttpsAgent(socks)
    const dispatcher = new ProxyAgent({
      uri: http.url,
      ...(opts.proxyCredentials ? { token: basicAuthorization(opts.proxyCredentials) } : {}),
    })
    stack.defer('close agents', async () => {
      httpAgent.destroy()
      httpsAgent.destroy()
      await dispatcher.close()
    })
    const tun: TunLayer | undefined = tunPrepared
      ? await startTun(ctx, tunPrepared, {
          kube,
          socks,
          dns: opts.dns,
          namespaces: [...new Set([namespace, ...opts.dns.namespaces])],
          tunReadyMs: opts.timeouts.tunReadyMs,
          probeMs: opts.timeouts.probeMs,
        })
      : undefined
    ctx.emit({ type: 'step.done', step: 'ready' })

    return buildSessionHandle(
      'connect',
      {
        id: ctx.id,
        namespace,
        get pod() {
          return tunnel.pod
        },
        socks,
        http,
        httpAgent,
        httpsAgent,
        dispatcher,
        ...(tun ? { tun: tun.info } : {}),
      },
      {
        ctx,
        lease,
        tunnel,
        onDestroy: () => {
          // Pooled sockets of the agents would otherwise hold the process open.
          httpAgent.destroy()
          httpsAgent.destroy()
          tun?.destroy()
        },
        ...(tun ? { failure: tun.failure } : {}),
      },
    )
  } catch (error) {
    throw await ctx.fail(error)
  }
}

// The state directory defaults to the host's: root-only `/var/lib/ktx` as root, `~/.ktx` otherwise.
function withStateDir<T>(
  host: Host,
  stateDir: string | undefined,
  tun: T,
): { host: Host; stateDir: string; tun: T } {
  return { host, stateDir: stateDir ?? hostStateDir(host), tun }
}
