import type { ClusterStatusReport, LocalStatusReport } from '@ktx/core'

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`
  return `${s}s`
}

// Columns padded to the widest cell; the last column is not padded.
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  )
}

/** `ktx status`: this machine's sessions. */
export function renderLocalStatus(report: LocalStatusReport): string[] {
  const stale = report.stale.map(
    (r) =>
      `Removed the record of session ${r.id} (${r.verb}, pid ${r.process.pid} is gone); run \`ktx clean -n ${r.namespace}\` for what it left.`,
  )
  if (report.sessions.length === 0) return ['No ktx session runs on this machine.', ...stale]
  const rows = [
    ['SESSION', 'VERB', 'NAMESPACE', 'TARGET', 'PORTS', 'UPTIME', 'STATE', 'PID'],
    ...report.sessions.map((s) => [
      s.id,
      s.verb,
      s.namespace,
      s.target,
      s.ports.join(', ') || '-',
      formatDuration(s.uptimeSeconds),
      s.state,
      String(s.process.pid),
    ]),
  ]
  return [...table(rows), ...stale]
}

/** `ktx status --cluster`: the namespace's sessions. */
export function renderClusterStatus(report: ClusterStatusReport): string[] {
  if (report.sessions.length === 0) return [`No ktx session in namespace ${report.namespace}.`]
  const rows = [
    ['SESSION', 'VERB', 'OWNER', 'STATE', 'LAST RENEWAL', 'HOLDS'],
    ...report.sessions.map((s) => [
      s.id,
      s.verb ?? '?',
      s.owner ?? '?',
      s.alive ? 'alive' : 'dead',
      s.sinceRenewalSeconds === undefined ? '-' : `${formatDuration(s.sinceRenewalSeconds)} ago`,
      s.holds.map((h) => `${h.how} ${h.service}`).join(', ') || '-',
    ]),
  ]
  const dead = report.sessions.some((s) => !s.alive)
  return [
    `Namespace ${report.namespace}:`,
    ...table(rows),
    ...(dead ? [`Dead sessions left objects behind: ktx clean -n ${report.namespace}`] : []),
  ]
}
