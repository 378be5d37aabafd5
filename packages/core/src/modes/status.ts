/**
 * `ktx status`: which ktx sessions run. `localStatus()` lists this machine's (the register each
 * ready session writes under the state directory); `clusterStatus()` lists one namespace's, from
 * their Leases, with what each holds. Both only read (stale local records are removed).
 */
import { type Kube, createKube, isKube } from '../kube/client.js'
import type { KubeOptions } from '../kube/kubeconfig.js'
import { DEFAULTS } from '../options.js'
import { type ClusterStatusReport, listClusterSessions } from './status/cluster.js'

export {
  type ClusterSessionStatus,
  type ClusterStatusReport,
  type HeldService,
  heldServices,
} from './status/cluster.js'
export {
  type LocalSessionStatus,
  type LocalStatusReport,
  type SessionFacts,
  localRecordOf,
  localStatus,
  trackLocalSession,
} from './status/local.js'

/** Options of {@link clusterStatus}. */
export interface ClusterStatusOptions {
  readonly kube?: KubeOptions | Kube
  readonly requestTimeoutMs?: number
  readonly signal?: AbortSignal
}

/**
 * Every ktx session in the namespace, alive or dead, with what it holds.
 * @throws ConfigError / PermissionError / TunnelError `KTX_KUBE_UNREACHABLE`.
 */
export function clusterStatus(options: ClusterStatusOptions = {}): Promise<ClusterStatusReport> {
  const kube = isKube(options.kube)
    ? options.kube
    : createKube({
        ...options.kube,
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.timeouts.kubeRequestMs,
      })
  return listClusterSessions(kube, options.signal)
}
