import type { RecoverReport } from '@ktx/core'

import { formatLabels, formatRef } from './format.js'

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
    lines.push(`  ${formatRef(w.ref)} scaled back${replicas}`)
  }
  for (const ref of report.deleted) lines.push(`  deleted ${formatRef(ref)}`)
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`)
  return lines
}
