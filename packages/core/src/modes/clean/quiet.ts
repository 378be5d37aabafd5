/**
 * The quiet clean every verb does in its namespace: once a session is ready, what dead sessions
 * left there (Services still redirected, workloads left at 0, their pods and Leases) is put back
 * and deleted in the background, so a `kill -9` is repaired by the next ktx run in that namespace
 * even when nobody runs `ktx clean`. It runs after the verb's own set-up, so a verb taking over
 * its own target from a dead session still does that itself and says so; it never holds the
 * verb up, and a user without the clean Role's rights simply goes without it.
 */
import { PermissionError, isKtxError, messageOf } from '../../errors.js'
import { type Kube, createKube, isKube } from '../../kube/client.js'
import type { KubeOptions } from '../../kube/kubeconfig.js'
import { type Logger, noopLogger } from '../../logger.js'
import { DEFAULTS } from '../../options.js'
import type { Session } from '../../session.js'
import { type CleanClusterReport, cleanCluster } from './cluster.js'

/** What a verb's options give the quiet clean. */
export interface QuietCleanInput {
  readonly kube?: KubeOptions | Kube
  readonly logger?: Logger
  readonly timeouts?: { readonly kubeRequestMs?: number }
}

/**
 * Starts `verb`, then reaps the dead sessions of the new session's namespace without waiting;
 * the reaping stops when the session ends. Resolves with the session as `verb` does.
 */
export async function withQuietClean<O extends QuietCleanInput, S extends Session>(
  verb: (options: O) => Promise<S>,
  options: O,
): Promise<S> {
  const session = await verb(options)
  void quietClean(session, options)
  return session
}

/** Reaps what dead sessions left in the session's namespace; never rejects. */
export async function quietClean(
  session: Session,
  options: QuietCleanInput,
): Promise<CleanClusterReport | undefined> {
  const log = (options.logger ?? noopLogger).child({ session: session.id, component: 'quiet-clean' })
  const stop = new AbortController()
  void session.ended.then(() => stop.abort())
  try {
    const kube = isKube(options.kube)
      ? options.kube
      : createKube({
          ...options.kube,
          namespace: session.namespace,
          requestTimeoutMs: options.timeouts?.kubeRequestMs ?? DEFAULTS.timeouts.kubeRequestMs,
        })
    const report = await cleanCluster({ kube, waitMs: 0, logger: log, signal: stop.signal })
    const restored = report.restoredServices.map((s) => `service/${s}`)
    if (report.deadSessions.length > 0) {
      log.warn(
        `Cleaned what ${String(report.deadSessions.length)} dead ktx session(s) left in namespace ${report.namespace}` +
          (restored.length > 0 ? `: restored ${restored.join(', ')}` : ''),
        { dead: report.deadSessions },
      )
    }
    for (const warning of report.warnings) log.warn(warning)
    return report
  } catch (error) {
    if (stop.signal.aborted) return undefined
    // Without the clean Role's rights a verb goes without it; `ktx clean` says what is missing.
    if (error instanceof PermissionError) log.debug('Quiet clean skipped', { error: error.message })
    else log.debug('Quiet clean failed', { error: isKtxError(error) ? error.code : messageOf(error) })
    return undefined
  }
}
