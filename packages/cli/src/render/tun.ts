import { type Cidr, contains, formatCidr } from '@ktx/core/net'
import type { ConnectSession, RoutePlanReport, TunInfo } from '@ktx/core'

/**
 * The summary of a TUN-mode session: the device, routes, DNS and what the probes through the
 * tunnel saw (the session is only returned once they succeeded).
 */
export function renderTunReady(
  session: Pick<ConnectSession, 'socks' | 'namespace' | 'pod'>,
  tun: TunInfo,
): string[] {
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
