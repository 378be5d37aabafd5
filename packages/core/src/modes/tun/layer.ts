/**
 * `connect({ mode: 'tun' })` = the socks session + tun2socks + routes + DNS. This file adds the
 * TUN part on top of a ready SOCKS5 proxy; `connect.ts` calls it.
 *
 * Order (each host change journalled under `~/.ktx/journal/` before it is made, its undo on the
 * cleanup stack the moment it succeeds):
 *   preflight (root, tun2socks, device name; before any cluster write) → host journal → route plan
 *   (conflicts stop here) → … socks session … → TUN device → link up → tun2socks (attached =
 *   carrier) → routes → DNS (server, then the system resolver) → probes (TCP and DNS through
 *   the tunnel).
 * Teardown runs backwards: resolver restored, DNS server stopped, routes deleted, tun2socks
 * stopped, device deleted, journal removed; then the socks session's own steps.
 */
import { TunnelError } from '../../errors.js'
import { type Host, realHost } from '../../host/host.js'
import { type Journal, openJournal } from '../../host/journal.js'
import { identify } from '../../host/process.js'
import { type ChangeContext, applyChange } from '../../host/undo.js'
import type { Kube } from '../../kube/client.js'
import type { ClusterNetwork } from '../../kube/cluster-network.js'
import { formatCidr } from '../../net/cidr.js'
import type { RoutePlan } from '../../net/route-plan.js'
import { openRouteTable } from '../../net/routes/index.js'
import { type Tun2socksProcess, startTun2socks, tun2socksArgv } from '../../net/tun/tun2socks.js'
import { type ResolvedDnsOptions, type ResolvedTunOptions, defaultDeviceName } from './options.js'
import { type ConnectOptions, resolveConnectOptions } from '../../options.js'
import { type SetupContext, createSetupContext } from '../shared/setup.js'
import { openKube } from '../shared/shadow-tunnel.js'
import { type DnsLayer, startDnsLayer } from './dns.js'
import type { TunPreflight } from './preflight.js'
import { probeDns, probeTcp } from './probe.js'
import { type TunRoutes, checkPlan, planTunRoutes } from './routes.js'

export { preflightTun, type TunPreflight } from './preflight.js'
export { defaultStateDir } from '../../host/state-dir.js'

/** The TUN part of a connect session, as the caller sees it. */
export interface TunInfo {
  readonly device: string
  /** Routed ranges, e.g. `10.96.0.0/16`. */
  readonly routes: readonly string[]
  /** Ranges kept out, with the reason (`exclude`, `api-server`, `node`, …). */
  readonly excluded: readonly { readonly cidr: string; readonly reason: string }[]
  readonly tun2socks: { readonly path: string; readonly version: string; readonly pid: number }
  /** How names resolve. */
  readonly dns: Omit<DnsLayer, 'probe'>
  /** What the readiness probes saw. */
  readonly probes: { readonly tcp: string; readonly dns?: string }
}

/** The running TUN part. */
export interface TunLayer {
  readonly info: TunInfo
  /** Resolves if tun2socks dies while the session runs (the session then ends as failed). */
  readonly failure: Promise<Error>
  /** Kills tun2socks now (for `destroy()`); the journal keeps the rest for `ktx clean`. */
  destroy(): void
}

/**
 * Opens the session's host journal (with the cluster side, so `ktx clean` can also remove the
 * session's objects after a crash) and registers its removal last.
 */
export async function openSessionJournal(
  ctx: SetupContext,
  host: Host,
  stateDir: string,
  kube: Kube,
): Promise<Journal> {
  const journal = await openJournal({
    stateDir,
    session: ctx.id,
    owner: await identify(host, process.pid),
    cluster: { context: kube.context, namespace: kube.namespace, server: kube.server },
  })
  ctx.stack.defer('remove host journal', () => journal.close())
  return journal
}

/** Plans routes (step `routes.plan`) and fails on conflicts before anything is changed. */
export async function planSessionRoutes(
  ctx: SetupContext,
  kube: Kube,
  preflight: TunPreflight,
  tun: ResolvedTunOptions,
): Promise<TunRoutes> {
  return ctx.step('routes.plan', async () => {
    const routes = await planTunRoutes({
      kube,
      routeTable: preflight.routeTable,
      device: preflight.device,
      tun,
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
  })
}

/** Everything {@link startTunLayer} needs. */
export interface TunLayerInput {
  readonly preflight: TunPreflight
  readonly journal: Journal
  readonly kube: Kube
  readonly socks: { readonly host: string; readonly port: number }
  readonly routes: TunRoutes
  readonly dns: ResolvedDnsOptions
  /** Namespaces for short names, `--namespace` first. */
  readonly namespaces: readonly string[]
  readonly tunReadyMs: number
  readonly probeMs: number
}

/** Brings up the TUN device, tun2socks, routes and DNS, then proves the tunnel works. */
export async function startTunLayer(ctx: SetupContext, input: TunLayerInput): Promise<TunLayer> {
  const { preflight, journal, routes } = input
  const { host, routeTable, device, binary } = preflight
  const signal = ctx.signal
  const change: ChangeContext = { host, journal, stack: ctx.stack, logger: ctx.log }
  let stopping = false

  const tun2socks = await ctx.step(
    'tun.up',
    async () => {
      const create = routeTable.createTun?.(device)
      if (create) {
        await applyChange(change, create.description, create.undo, () => create.apply(signal))
        await routeTable.setUp(device, signal)
      }
      let process: Tun2socksProcess | undefined
      // Journalled by its exact command line before it starts: after `kill -9` of ktx, tun2socks
      // lives on, and `ktx clean` finds it by that line.
      const started = await applyChange(
        change,
        `tun2socks on ${device}`,
        { op: 'kill', argv: tun2socksArgv(binary.path, device, input.socks) },
        async () => {
          process = await startTun2socks({
            binary,
            device,
            proxy: input.socks,
            routeTable,
            logger: ctx.log,
            readyTimeoutMs: input.tunReadyMs,
            signal,
          })
          return process
        },
        async () => {
          stopping = true
          await process?.stop()
        },
      )
      if (!create) await routeTable.setUp(device, signal)
      ctx.log.debug('tun2socks started', { argv: started.argv, pid: started.pid })
      return started
    },
    device,
  )

  await ctx.step(
    'routes.apply',
    async () => {
      for (const cidr of routes.plan.routes) {
        const route = routeTable.addRoute(cidr, device)
        await applyChange(change, route.description, route.undo, () => route.apply(signal))
      }
    },
    `${routes.plan.routes.length} route(s)`,
  )

  const dns = await ctx.step(
    'dns.start',
    () =>
      startDnsLayer({
        change,
        kube: input.kube,
        session: ctx.id,
        device,
        routeTable,
        socks: input.socks,
        network: routes.network,
        dns: input.dns,
        namespaces: input.namespaces,
        routes: routes.plan.routes,
        signal,
      }),
    input.dns.mode,
  )

  const probes = await ctx.step('tunnel.probe', async () => {
    const tcp = await probeTcp(
      {
        dnsIP: routes.network.dnsServiceIP,
        kubernetesIP: routes.network.kubernetesServiceIP,
        name: `kubernetes.default.svc.${input.dns.clusterDomain}`,
      },
      { timeoutMs: input.probeMs, signal },
    )
    const seen = dns.probe
      ? await probeDns(dns.probe.name, dns.probe.address, { timeoutMs: input.probeMs, signal })
      : undefined
    return { tcp, ...(seen === undefined ? {} : { dns: `${dns.probe?.name ?? ''} → ${seen}` }) }
  })

  const failure = tun2socks.exited.then((exit) => {
    if (stopping) return new Promise<Error>(() => undefined)
    const how =
      exit.code === undefined ? `was killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exit.code}`
    return new TunnelError('KTX_TUN2SOCKS_EXITED', `tun2socks ${how}; traffic to the cluster stopped`, {
      suggestions: ['Run with --debug to see its last output.'],
      data: { output: tun2socks.stderrTail() },
    })
  })
  const { probe: _probe, ...dnsInfo } = dns
  return {
    info: {
      device,
      routes: routes.plan.routes.map(formatCidr),
      excluded: routes.plan.excluded.map((e) => ({ cidr: formatCidr(e.cidr), reason: e.reason })),
      tun2socks: { path: binary.path, version: binary.version, pid: tun2socks.pid },
      dns: dnsInfo,
      probes,
    },
    failure,
    destroy() {
      stopping = true
      void tun2socks.stop()
    },
  }
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
  const ctx = createSetupContext({
    logger: opts.logger,
    onEvent: opts.onEvent,
    signal: opts.signal,
    cleanupStepMs: opts.timeouts.cleanupStepMs,
  })
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
