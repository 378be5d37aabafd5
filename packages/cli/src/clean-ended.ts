/**
 * Once a verb's session is ready: put back what dead sessions left in its namespace (`ktx clean`'s
 * cluster half, without waiting for restored workloads to be Ready), so a `kill -9` is repaired by
 * the next ktx run there, whatever it is for. After ready, not before: the verb takes over its own
 * target from a dead session first (keeping a preview's ClusterIP, saying whose it was), and the
 * start is not slowed. Quiet: one line when it did something; a failure (no list rights, a slow
 * API server) never touches the session, and `ktx clean` says why.
 */
import { type CleanClusterOptions, cleanCluster, messageOf } from '@ktx/core'

import type { Runtime } from './base-command.js'

/** Reaps the dead sessions of the namespace `kube` names; never rejects. */
export async function cleanEndedSessions(kube: CleanClusterOptions['kube'], runtime: Runtime): Promise<void> {
  const { logger, signal } = runtime
  try {
    const report = await cleanCluster({ ...(kube ? { kube } : {}), waitMs: 0, logger, signal })
    const { deadSessions, restoredServices, deleted } = report
    if (restoredServices.length === 0 && deleted.length === 0) return
    const restored = restoredServices.length === 0 ? '' : `; restored service ${restoredServices.join(', ')}`
    process.stderr.write(
      `Cleaned up after ended ktx session(s) ${deadSessions.join(', ')} in namespace ${report.namespace}${restored}\n`,
    )
  } catch (error) {
    logger.debug('Cleaning up after ended sessions failed; carrying on', { error: messageOf(error) })
  }
}
