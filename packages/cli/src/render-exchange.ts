import type { CleanClusterReport, CleanLocalReport, ExchangeSession, RecoverReport } from '@ktx/core'

/** The summary printed once an exchange is ready. */
export function renderExchangeReady(
  session: Pick<
    ExchangeSession,
    'namespace' | 'service' | 'mode' | 'pod' | 'workload' | 'expose' | 'unexposed'
  >,
): string[] {
  const how =
    session.mode === 'scale'
      ? `scale mode: ${session.workload ?? 'the workload'} scaled to 0`
      : 'selector mode'
  return [
    `Exchanged: Service ${session.namespace}/${session.service} now sends its callers here (${how}; shadow pod ${session.pod})`,
    ...session.expose.map((m) => `  pod port ${m.remote} → localhost:${m.local}`),
    ...session.unexposed.map((t) => `  not exposed, callers are refused: ${t}`),
    '',
    'Press Ctrl+C to give the Service back.',
  ]
}

/** What `ktx recover` did, one line each. */
export function renderRecover(report: RecoverReport): string[] {
  if (report.state === 'clean') {
    return [`Service ${report.namespace}/${report.service} has nothing of ktx on it; nothing to do.`]
  }
  const lines = [`Recovered Service ${report.namespace}/${report.service}`]
  for (const s of report.sessions) lines.push(`  from session ${s.id}${s.owner ? ` of ${s.owner}` : ''}`)
  if (report.selector) lines.push(`  selector restored: ${formatLabels(report.selector)}`)
  for (const w of report.workloads) {
    const replicas = w.replicas === undefined ? '' : ` to ${w.replicas} replicas`
    lines.push(`  ${w.ref.kind.toLowerCase()}/${w.ref.name} scaled back${replicas}`)
  }
  for (const ref of report.deleted) lines.push(`  deleted ${ref.kind.toLowerCase()}/${ref.name}`)
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`)
  return lines
}

/** What the cluster part of `ktx clean` did (or would do). */
export function renderCleanCluster(report: CleanClusterReport): string[] {
  const verb = report.dryRun ? 'would ' : ''
  const lines: string[] = []
  if (report.deadSessions.length === 0 && report.restoredServices.length === 0) {
    lines.push(`Namespace ${report.namespace}: nothing left by dead ktx sessions.`)
  } else {
    lines.push(`Namespace ${report.namespace}: ${report.deadSessions.length} dead session(s)`)
    for (const service of report.restoredServices) lines.push(`  ${verb}restore service/${service}`)
    for (const ref of report.deleted) lines.push(`  deleted ${ref.kind.toLowerCase()}/${ref.name}`)
    if (report.dryRun)
      for (const s of report.deadSessions) lines.push(`  would delete the objects of session ${s}`)
  }
  if (report.liveSessions.length > 0) lines.push(`  left alone (alive): ${report.liveSessions.join(', ')}`)
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`)
  return lines
}

/** What the local part of `ktx clean` did (or would do). */
export function renderCleanLocal(report: CleanLocalReport): string[] {
  const { local } = report
  const lines: string[] = []
  if (local.replayed.length === 0) lines.push('This machine: nothing left by dead ktx runs.')
  for (const session of local.replayed) {
    lines.push(`This machine: session ${session.session}`)
    for (const change of session.undone) lines.push(`  undid ${change}`)
    for (const s of session.skipped) lines.push(`  left ${s.change}: ${s.reason}`)
    for (const f of session.failed) lines.push(`  could not undo ${f.change}: ${f.error}`)
  }
  for (const ref of report.deleted) lines.push(`  deleted ${ref.kind.toLowerCase()}/${ref.name}`)
  if (local.live.length > 0) lines.push(`  left alone (running): ${local.live.join(', ')}`)
  for (const u of local.unreadable) lines.push(`Warning: cannot read ${u.path}: ${u.error}`)
  for (const problem of report.problems) lines.push(`Warning: ${problem}`)
  return lines
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
}
