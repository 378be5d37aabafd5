/**
 * `recover(service)`: restores one Service a dead ktx session changed (see `shared/recover-service.ts`).
 */
import { type Kube, createKube, isKube } from '../kube/client.js'
import type { KubeOptions } from '../kube/kubeconfig.js'
import { type Logger, noopLogger } from '../logger.js'
import { DEFAULTS } from '../options.js'
import { type RecoverReport, recoverService } from './shared/recover-service.js'

/** Options of {@link recover}. */
export interface RecoverOptions {
  /** The Service to put back. */
  readonly service: string
  /** Recover even while the owning session is alive (ends that session). Default false. */
  readonly force?: boolean
  /** How long to wait for a scaled-back workload to be Ready. Default 120 000; 0 skips. */
  readonly waitMs?: number
  readonly kube?: KubeOptions | Kube
  /** Bound on each API request. Default 15 000. */
  readonly requestTimeoutMs?: number
  readonly logger?: Logger
  readonly signal?: AbortSignal
}

/**
 * Restores a Service changed by a ktx session that is gone (selector or replicas) and removes that
 * session's objects. See {@link recoverService}.
 * @throws ConflictError `KTX_SESSION_ALIVE` while the owner is alive (unless `force`), KubeApiError
 *   `KTX_SERVICE_NOT_FOUND`, ConfigError / PermissionError / TunnelError from the API.
 */
export async function recover(options: RecoverOptions): Promise<RecoverReport> {
  const kube = isKube(options.kube)
    ? options.kube
    : createKube({
        ...options.kube,
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.timeouts.kubeRequestMs,
      })
  return recoverService(kube, options.service, {
    force: options.force ?? false,
    waitMs: options.waitMs ?? 120_000,
    logger: options.logger ?? noopLogger,
    ...(options.signal ? { signal: options.signal } : {}),
  })
}
