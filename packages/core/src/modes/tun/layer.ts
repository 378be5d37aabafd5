/**
 * TUN mode's part of a session after the proxies listen: the TUN device, tun2socks, routes and
 * DNS, then probes that prove the tunnel carries traffic.
 *
 * Order (each host change journalled before it is made, its undo on the cleanup stack the moment
 * it succeeds): TUN device → link up → tun2socks (attached = carrier) → routes → DNS (server, then
 * the system resolver) → probes (TCP and DNS through the tunnel).
 * Teardown runs backwards: resolver restored, DNS server stopped, routes deleted, tun2socks
 * stopped, device deleted; the journal (opened in `prepare.ts`) is removed after them.
 */
import { TunnelError } from '../../errors.js'
import { type ChangeContext, applyChange } from '../../host/undo.js'
import type { Kube } from '../../kube/client.js'
import { sessionSelector } from '../../kube/labels.js'
import { formatCidr } from '../../net/cidr.js'
import { type Tun2socksProcess, startTun2socks, tun2socksArgv } from '../../net/tun/tun2socks.js'
import type { SetupContext } from '../shared/setup.js'
import { type DnsLayer, startDnsLayer } from './dns.js'
import type { ResolvedDnsOptions } from './options.js'
import type { TunPrepared } from './prepare.js'
import { probeDns, probeTcp } from './probe.js'

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

/** What {@link startTun} needs besides what {@link prepareTun} settled. */
export interface TunStartInput {
  readonly kube: Kube
  /** The session's SOCKS5 proxy, which tun2socks feeds. */
  readonly socks: { readonly host: string; readonly port: number }
  readonly dns: ResolvedDnsOptions
  /** Namespaces for short names, `--namespace` first. */
  readonly namespaces: readonly string[]
  readonly tunReadyMs: number
  readonly probeMs: number
}

/** Brings up the TUN device, tun2socks, routes and DNS, then proves the tunnel works. */
export async function startTun(
  ctx: SetupContext,
  prepared: TunPrepared,
  input: TunStartInput,
): Promise<TunLayer> {
  const { preflight, routes } = prepared
  const change: ChangeContext = {
    host: preflight.host,
    journal: prepared.journal,
    stack: ctx.stack,
    logger: ctx.log,
  }
  const tun2socks = await ctx.step(
    'tun.up',
    () => bringUpDevice(ctx, change, prepared, input),
    preflight.device,
  )
  await ctx.step(
    'routes.apply',
    () => applyRoutes(ctx, change, prepared),
    `${routes.plan.routes.length} route(s)`,
  )
  const dns = await ctx.step(
    'dns.start',
    () =>
      startDnsLayer({
        change,
        kube: input.kube,
        session: ctx.id,
        device: preflight.device,
        routeTable: preflight.routeTable,
        socks: input.socks,
        network: routes.network,
        dns: input.dns,
        namespaces: input.namespaces,
        routes: routes.plan.routes,
        signal: ctx.signal,
      }),
    input.dns.mode,
  )
  const probes = await ctx.step('tunnel.probe', () => probeTunnel(ctx, prepared, dns, input))
  const { probe: _probe, ...dnsInfo } = dns
  return {
    info: {
      device: preflight.device,
      routes: routes.plan.routes.map(formatCidr),
      excluded: routes.plan.excluded.map((e) => ({ cidr: formatCidr(e.cidr), reason: e.reason })),
      tun2socks: {
        path: preflight.binary.path,
        version: preflight.binary.version,
        pid: tun2socks.process.pid,
      },
      dns: dnsInfo,
      probes,
    },
    failure: tun2socks.failure,
    destroy: tun2socks.stop,
  }
}

interface RunningTun2socks {
  readonly process: Tun2socksProcess
  /** Resolves when tun2socks dies on its own (never after {@link stop}). */
  readonly failure: Promise<Error>
  readonly stop: () => void
}

// The device (where ktx creates it), link up, then tun2socks attached to it.
async function bringUpDevice(
  ctx: SetupContext,
  change: ChangeContext,
  { preflight }: TunPrepared,
  input: TunStartInput,
): Promise<RunningTun2socks> {
  const { routeTable, device, binary } = preflight
  const signal = ctx.signal
  const create = routeTable.createTun?.(device)
  if (create) {
    await applyChange(change, create.description, create.undo, () => create.apply(signal))
    await routeTable.setUp(device, signal)
  }
  let stopping = false
  let started: Tun2socksProcess | undefined
  // Journalled by its exact command line before it starts: after `kill -9` of ktx, tun2socks
  // lives on, and `ktx clean` finds it by that line.
  const process = await applyChange(
    change,
    `tun2socks on ${device}`,
    { op: 'kill', argv: tun2socksArgv(binary.path, device, input.socks) },
    async () => {
      started = await startTun2socks({
        binary,
        device,
        proxy: input.socks,
        routeTable,
        logger: ctx.log,
        readyTimeoutMs: input.tunReadyMs,
        signal,
      })
      return started
    },
    async () => {
      stopping = true
      await started?.stop()
    },
  )
  if (!create) await routeTable.setUp(device, signal)
  ctx.log.debug('tun2socks started', { argv: process.argv, pid: process.pid })
  const failure = process.exited.then((exit) => {
    if (stopping) return new Promise<Error>(() => undefined)
    const how =
      exit.code === undefined ? `was killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exit.code}`
    return new TunnelError('KTX_TUN2SOCKS_EXITED', `tun2socks ${how}; traffic to the cluster stopped`, {
      suggestions: ['Run with --debug to see its last output.'],
      data: { output: process.stderrTail() },
    })
  })
  return {
    process,
    failure,
    stop: () => {
      stopping = true
      void process.stop()
    },
  }
}

async function applyRoutes(
  ctx: SetupContext,
  change: ChangeContext,
  { preflight, routes }: TunPrepared,
): Promise<void> {
  for (const cidr of routes.plan.routes) {
    const route = preflight.routeTable.addRoute(cidr, preflight.device)
    await applyChange(change, route.description, route.undo, () => route.apply(ctx.signal))
  }
}

// tun2socks answers pings itself, so only a real TCP exchange (and a real lookup) counts.
async function probeTunnel(
  ctx: SetupContext,
  { routes }: TunPrepared,
  dns: DnsLayer,
  input: TunStartInput,
): Promise<TunInfo['probes']> {
  const options = { timeoutMs: input.probeMs, signal: ctx.signal }
  const { dnsServiceIP, kubernetesServiceIP } = routes.network
  const tcp = await probeTcp(
    {
      dnsIP: dnsServiceIP,
      kubernetesIP: kubernetesServiceIP,
      shadowIP: dnsServiceIP || kubernetesServiceIP ? undefined : await shadowPodIP(ctx, input.kube),
      name: `kubernetes.default.svc.${input.dns.clusterDomain}`,
    },
    options,
  )
  if (!dns.probe) return { tcp }
  const seen = await probeDns(dns.probe.name, dns.probe.address, options)
  return { tcp, dns: `${dns.probe.name} → ${seen}` }
}

// The session's own shadow pod, by its label (the session may list pods in its namespace).
async function shadowPodIP(ctx: SetupContext, kube: Kube): Promise<string | undefined> {
  const namespace = kube.namespace
  const pods = await kube.call(
    { verb: 'list', resource: 'pods', namespace },
    (o) => kube.core.listNamespacedPod({ namespace, labelSelector: sessionSelector(ctx.id) }, o),
    ctx.signal,
  )
  return pods.items.map((pod) => pod.status?.podIP).find((ip) => ip !== undefined && ip !== '')
}
