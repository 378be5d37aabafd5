import type { CleanClusterReport, CleanLocalReport } from '@ktx/core'

import { formatRef } from './format.js'

/** What the cluster part of `ktx clean` did (or would do). */
export function renderCleanCluster(report: CleanClusterReport): string[] {
  const verb = report.dryRun ? 'would ' : ''
  const lines: string[] = []
  if (report.deadSessions.length === 0 && report.restoredServices.length === 0) {
    lines.push(`Namespace ${report.namespace}: nothing left by dead ktx sessions.`)
  } else {
    lines.push(`Namespace ${report.namespace}: ${report.deadSessions.length} dead session(s)`)
    for (const service of report.restoredServices) lines.push(`  ${verb}restore service/${service}`)
    for (const ref of report.deleted) lines.push(`  deleted ${formatRef(ref)}`)
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
  for (const ref of report.deleted) lines.push(`  deleted ${formatRef(ref)}`)
  if (local.live.length > 0) lines.push(`  left alone (running): ${local.live.join(', ')}`)
  for (const u of local.unreadable) lines.push(`Warning: cannot read ${u.path}: ${u.error}`)
  for (const refused of local.refused) {
    lines.push(`Warning (${refused.code}): ${refused.message}`, ...refused.suggestions.map((s) => `  ${s}`))
  }
  for (const problem of report.problems) lines.push(`Warning: ${problem}`)
  return lines
}
