/**
 * `cleanLocal()`: what a killed session left behind on this machine. On this machine, the host journal of every session
 * whose ktx process is gone is replayed (routes, TUN device, resolver, hosts block, tun2socks);
 * in the cluster, those sessions' Lease and pods are deleted (and waited for), since their owner
 * is known to be dead. Sessions still running are never touched.
 */
import { isKtxError, messageOf, type ResourceRef } from '../../errors.js'
import { type Host, realHost } from '../../host/host.js'
import { type ReplayReport, replayJournals } from '../../host/undo.js'
import { type Kube, createKube, isKube } from '../../kube/client.js'
import type { KubeOptions } from '../../kube/kubeconfig.js'
import { sessionSelector } from '../../kube/labels.js'
import { deleteIgnoringMissing } from '../../kube/lease.js'
import { deletePodAndWait } from '../../kube/shadow.js'
import { type Logger, noopLogger } from '../../logger.js'
import { hostStateDir } from '../../host/state-dir.js'

/** Options of {@link cleanLocal}. */
export interface CleanLocalOptions {
  /**
   * ktx's state directory, whose `journal/` is replayed. Default: where sessions on this host write
   * it, `/var/lib/ktx` (macOS `/var/db/ktx`) as root, `~/.ktx` otherwise.
   */
  readonly stateDir?: string
  /** How to reach the cluster; the namespace and context recorded in each journal are used. */
  readonly kube?: KubeOptions | Kube
  /** Report what would be done, change nothing. */
  readonly dryRun?: boolean
  /** Also remove the dead sessions' cluster objects. Default true. */
  readonly cluster?: boolean
  readonly host?: Host
  readonly logger?: Logger
  readonly signal?: AbortSignal
}

/** What {@link cleanLocal} did. */
export interface CleanLocalReport {
  readonly local: ReplayReport
  /** Cluster objects deleted (or that would be, in a dry run). */
  readonly deleted: readonly ResourceRef[]
  /** Cluster clean-ups that failed or were skipped, with the reason. */
  readonly problems: readonly string[]
}

/**
 * Replays the journals of dead sessions and deletes their cluster objects.
 * @throws HostError `KTX_JOURNAL_FAILED` when the journal directory cannot be read; cluster
 *   failures are reported in {@link CleanLocalReport.problems}, not thrown.
 */
export async function cleanLocal(options: CleanLocalOptions = {}): Promise<CleanLocalReport> {
  const host = options.host ?? realHost()
  const log = (options.logger ?? noopLogger).child({ component: 'clean' })
  const local = await replayJournals(host, options.stateDir ?? hostStateDir(host), {
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const deleted: ResourceRef[] = []
  const problems: string[] = []
  if (options.cluster === false) return { local, deleted, problems }

  for (const session of local.replayed) {
    if (!session.cluster) continue
    const { namespace, context } = session.cluster
    let kube: Kube
    try {
      kube = kubeFor(options.kube, context, namespace)
    } catch (error) {
      problems.push(
        `session ${session.session}: cannot reach its cluster (context ${context}): ${messageOf(error)}`,
      )
      continue
    }
    try {
      const pods = await kube.call(
        { verb: 'list', resource: 'pods', namespace },
        (o) => kube.core.listNamespacedPod({ namespace, labelSelector: sessionSelector(session.session) }, o),
        options.signal,
      )
      for (const pod of pods.items) {
        const name = pod.metadata?.name
        if (!name) continue
        if (!options.dryRun) await deletePodAndWait(kube, name, options.signal)
        deleted.push({ kind: 'Pod', name, namespace })
      }
      const lease = `ktx-${session.session}`
      const existed = await deleteLease(kube, lease, options.dryRun === true, options.signal)
      if (existed) deleted.push({ kind: 'Lease', name: lease, namespace })
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason
      const what = isKtxError(error) ? `${error.code}: ${error.message}` : messageOf(error)
      problems.push(`session ${session.session} in ${namespace}: ${what}`)
      log.warn('Cluster clean-up failed', { session: session.session, error: what })
    }
  }
  return { local, deleted, problems }
}

// The journal's context, if this kubeconfig has it; the given client or options otherwise.
function kubeFor(kube: KubeOptions | Kube | undefined, context: string, namespace: string): Kube {
  if (isKube(kube))
    return kube.namespace === namespace ? kube : createKube({ context: kube.context, namespace })
  try {
    return createKube({ ...kube, context, namespace })
  } catch (error) {
    if (isKtxError(error) && error.code === 'KTX_KUBE_CONTEXT_NOT_FOUND' && kube?.context === undefined) {
      return createKube({ ...kube, namespace })
    }
    throw error
  }
}

// True when the lease was there (and, unless a dry run, is now deleted).
async function deleteLease(
  kube: Kube,
  name: string,
  dryRun: boolean,
  signal?: AbortSignal,
): Promise<boolean> {
  const namespace = kube.namespace
  try {
    await kube.call(
      { verb: 'get', resource: 'leases', namespace, name },
      (o) => kube.coordination.readNamespacedLease({ name, namespace }, o),
      signal,
    )
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) return false
    throw error
  }
  if (!dryRun) {
    await deleteIgnoringMissing(() =>
      kube.call(
        { verb: 'delete', resource: 'leases', namespace, name },
        (o) => kube.coordination.deleteNamespacedLease({ name, namespace }, o),
        signal,
      ),
    )
  }
  return true
}
