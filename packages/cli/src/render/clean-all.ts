import type { CleanAllNamespacesReport } from '@ktx/core'

import { renderCleanCluster } from './clean.js'

/** What `ktx clean --all-namespaces` did (or would do), namespace by namespace. */
export function renderCleanAllNamespaces(report: CleanAllNamespacesReport): string[] {
  const lines: string[] = []
  if (report.namespaces.length === 0 && report.failed.length === 0) {
    lines.push('No namespace holds ktx objects.')
  }
  for (const namespace of report.namespaces) lines.push(...renderCleanCluster(namespace))
  for (const { namespace, error } of report.failed) {
    lines.push(`Warning: namespace ${namespace} was not cleaned: ${error}`)
  }
  for (const list of report.refused) {
    lines.push(`Warning: not allowed to ${list}; what only it would have found was not looked at.`)
  }
  return lines
}
