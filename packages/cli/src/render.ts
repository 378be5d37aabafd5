import { type Cidr, contains, formatCidr } from '@ktx/core/net'
import {
  type ConnectSession,
  type RoutePlanReport,
  type SessionEvent,
  type StepId,
  exitCodeFor,
  isKtxError,
  messageOf,
} from '@ktx/core'

/** Exit code for an interrupted run (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130

/** Marks an abort caused by Ctrl+C / SIGTERM, so it renders as "Interrupted" and exits 130. */
export class Interrupted extends Error {
  constructor(signal: string) {
    super(`Interrupted by ${signal}`)
    this.name = 'Interrupted'
  }
}

/** The lines (for stderr) and exit code for an error: `Error (CODE): message` and "Try this:". */
export function renderError(error: unknown): { lines: string[]; exitCode: number } {
  if (error instanceof Interrupted) return { lines: [error.message], exitCode: EXIT_INTERRUPTED }
  if (isKtxError(error)) {
    const lines = [`Error (${error.code}): ${error.message}`]
    if (error.suggestions.length > 0) lines.push('Try this:', ...error.suggestions.map((s) => `  ${s}`))
    return { lines, exitCode: exitCodeFor(error) }
  }
  return {
    lines: [
      `Error: ${messageOf(error)}`,
      'This looks like a bug in ktx; please report it with the output of --debug.',
    ],
    exitCode: 1,
  }
}

/**
 * The summary printed once a session is ready. Socks mode: addresses and shell `export` lines.
 * TUN mode: the device, routes, DNS and what the probes through the tunnel saw (the session is
 * only returned once they succeeded).
 */
export function renderReady(
  session: Pick<ConnectSession, 'socks' | 'http' | 'namespace' | 'pod' | 'tun'>,
): string[] {
  const { tun } = session
  if (tun) {
    const dns =
      tun.dns.mode === 'localDNS'
        ? `local server ${tun.dns.address ?? ''} (${tun.dns.resolver ?? ''})`
        : tun.dns.mode === 'hosts'
          ? `hosts block in ${tun.dns.hostsFile ?? ''}`
          : 'none (reach Services by IP)'
    return [
      `Connected (tun mode): shadow pod ${session.namespace}/${session.pod}, device ${tun.device}`,
      `Routes:   ${tun.routes.join(', ')}`,
      ...(tun.excluded.length > 0
        ? [`Excluded: ${tun.excluded.map((e) => `${e.cidr} (${e.reason})`).join(', ')}`]
        : []),
      `DNS:      ${dns}`,
      `Probes:   TCP ${tun.probes.tcp}${tun.probes.dns ? `; DNS ${tun.probes.dns}` : ''}`,
      `tun2socks ${tun.tun2socks.version} (pid ${tun.tun2socks.pid}); SOCKS5 proxy ${session.socks.url}`,
      '',
      'Press Ctrl+C to disconnect.',
    ]
  }
  return [
    `Connected: shadow pod ${session.namespace}/${session.pod}`,
    `SOCKS5 proxy: ${session.socks.url}`,
    `HTTP proxy:   ${session.http.url}`,
    '',
    'To use it from a shell:',
    `export ALL_PROXY=${session.socks.url}`,
    `export HTTP_PROXY=${session.http.url}`,
    `export HTTPS_PROXY=${session.http.url}`,
    '',
    'Press Ctrl+C to disconnect.',
  ]
}

/** The `--dryRun` output: each route with where its range came from, exclusions, conflicts, notes. */
export function renderRoutePlan(report: RoutePlanReport): string[] {
  const { plan, network } = report
  const source = (route: Cidr): string =>
    plan.sources.find((s) => contains(s.cidr, route))?.source ?? 'include'
  const pad = (text: string): string => text.padEnd(22)
  return [
    `Route plan for ${report.device} (dry run: nothing was changed)`,
    `Routes (${plan.routes.length}):`,
    ...plan.routes.map((r) => `  ${pad(formatCidr(r))}${source(r)}`),
    ...(plan.excluded.length > 0
      ? ['Never routed:', ...plan.excluded.map((e) => `  ${pad(formatCidr(e.cidr))}${e.reason}`)]
      : []),
    ...(plan.conflicts.length > 0
      ? [
          'Conflicts with existing routes:',
          ...plan.conflicts.map(
            (c) =>
              `  ${pad(formatCidr(c.route))}overlaps ${formatCidr(c.existing.destination)} dev ${c.existing.device}${c.blocking ? ' (blocks connect)' : ' (taken over: --includeIps)'}`,
          ),
        ]
      : []),
    `Cluster DNS: ${network.dnsServiceIP ?? 'not found'}`,
    'How the ranges were found:',
    ...network.notes.map((n) => `  ${n}`),
  ]
}

const STEP_TEXT: Readonly<Record<StepId, string>> = {
  'kube.connect': 'Loading kubeconfig',
  'lease.create': 'Creating session lease',
  'shadow.create': 'Creating shadow pod',
  'shadow.ready': 'Waiting for the shadow pod to be ready',
  'port-forward.open': 'Opening port-forward',
  'ssh.connect': 'Connecting SSH tunnel',
  'socks.listen': 'Starting SOCKS5 proxy',
  'http.listen': 'Starting HTTP proxy',
  'tun.preflight': 'Checking root, tun2socks and the TUN device name',
  'routes.plan': 'Planning routes',
  'tun.up': 'Creating the TUN device and starting tun2socks',
  'routes.apply': 'Adding routes',
  'dns.start': 'Setting up DNS',
  'tunnel.probe': 'Probing TCP and DNS through the tunnel',
  'target.resolve': 'Looking up the Service and its ports',
  'service.lock': 'Locking the Service',
  'reverse.listen': 'Listening in the shadow pod',
  'service.switch': 'Pointing the Service at the shadow pod',
  'workload.scale': 'Scaling the workload to 0',
  'service.claim': 'Checking that the Service name is free',
  'service.create': 'Creating the Service',
  ready: 'Ready',
}

/** One progress line for an event, or undefined for events not worth a line at normal verbosity. */
export function renderEvent(event: SessionEvent, debug: boolean): string | undefined {
  switch (event.type) {
    case 'step.start':
      return `${STEP_TEXT[event.step]}${event.detail ? ` (${event.detail})` : ''} …`
    case 'step.done':
      return debug ? `${STEP_TEXT[event.step]}: done` : undefined
    case 'step.fail':
      return undefined
    case 'tunnel.down':
      return `Tunnel lost: ${messageOf(event.error)}`
    case 'heartbeat.failed':
      return debug ? `Lease renewal failed: ${messageOf(event.error)}` : undefined
    case 'cleanup.step':
      return `Cleaning up: ${event.name}`
    case 'cleanup.failed':
      return `Cleanup step failed: ${event.name}: ${messageOf(event.error)}`
    case 'warning':
      return `Warning: ${event.message}`
    case 'local.unreachable':
      return `Warning: nothing listens on ${event.host}:${event.port} (for pod port ${event.remote}); callers get a connection reset until it does`
    case 'service.repointed':
      return `Service ${event.service} was changed (selector ${formatSelector(event.previous)}); pointed it at the shadow pod again`
    case 'lock.recovered':
      return `${event.service} was left by session ${event.session} of ${event.owner} (${event.lastAlive}); restored it before taking over`
  }
}

function formatSelector(selector: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(selector).map(([key, value]) => `${key}=${value}`)
  return pairs.length > 0 ? pairs.join(',') : 'empty'
}
