import type { V1Lease } from '@kubernetes/client-node'

import type { Kube } from './client.js'

/** Whether a session is alive, judged from its Lease. */
export interface Liveness {
  readonly alive: boolean
  /** The Lease's last renewal; undefined when the Lease is gone. */
  readonly lastAlive: Date | undefined
  /** The API server's clock when it answered (this machine's when it sent no Date header). */
  readonly now: Date
}

/**
 * Reads a session's Lease and judges it: alive while `renewTime + leaseDurationSeconds` is still
 * ahead of the API server's clock (taken from the response's Date header, so a laptop with a
 * skewed clock never declares a live session dead; ktctl's #297). A missing Lease is a dead session.
 * @throws PermissionError / TunnelError from the read (anything but 404).
 */
export async function judgeLease(kube: Kube, name: string, signal?: AbortSignal): Promise<Liveness> {
  const namespace = kube.namespace
  try {
    const response = await kube.call(
      { verb: 'get', resource: 'leases', namespace, name },
      (o) => kube.coordination.readNamespacedLeaseWithHttpInfo({ name, namespace }, o),
      signal,
    )
    return judge(response.data, serverDate(response.headers.date))
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) {
      return { alive: false, lastAlive: undefined, now: new Date() }
    }
    throw error
  }
}

/** The verdict for one Lease snapshot at `now` (pure). */
export function judge(lease: V1Lease, now: Date): Liveness {
  const spec = lease.spec
  const renewed = spec?.renewTime ?? spec?.acquireTime ?? lease.metadata?.creationTimestamp
  const lastAlive = renewed === undefined ? undefined : new Date(renewed)
  const durationMs = (spec?.leaseDurationSeconds ?? 0) * 1000
  const alive = lastAlive !== undefined && lastAlive.getTime() + durationMs > now.getTime()
  return { alive, lastAlive, now }
}

/** "2026-11-22T03:57:35Z (12s ago)" for messages. */
export function describeLastAlive(liveness: Liveness): string {
  if (liveness.lastAlive === undefined) return 'never seen alive (its Lease is gone)'
  const seconds = Math.max(0, Math.round((liveness.now.getTime() - liveness.lastAlive.getTime()) / 1000))
  return `last alive ${liveness.lastAlive.toISOString().replace(/\.\d{3}Z$/, 'Z')} (${formatAge(seconds)} ago)`
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`
  return `${Math.round(seconds / 3600)}h`
}

function serverDate(header: string | undefined): Date {
  const parsed = header === undefined ? Number.NaN : Date.parse(header)
  return Number.isNaN(parsed) ? new Date() : new Date(parsed)
}
