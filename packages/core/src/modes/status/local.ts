/**
 * The local half of `ktx status`: a ready session registers itself (`trackLocalSession`), and
 * `localStatus` lists the registered sessions whose process still runs, with their uptime.
 * Records of killed processes are reported as stale and removed.
 */
import { rm } from 'node:fs/promises'

import { type Host, realHost } from '../../host/host.js'
import {
  type LocalSessionFile,
  type LocalSessionRecord,
  scanLocalSessions,
  writeLocalSession,
} from '../../host/local-sessions.js'
import type { ProxyEndpoint, Session } from '../../session.js'

/**
 * What the register reads from a session handle: every verb's handle has some of these (read
 * structurally, so this file needs no verb's types).
 */
export interface SessionFacts extends Pick<Session, 'id' | 'kind' | 'namespace' | 'ended'> {
  readonly service?: string
  readonly expose?: readonly { readonly local: number; readonly remote: number }[]
  readonly socks?: ProxyEndpoint
  readonly http?: ProxyEndpoint
  readonly mark?: { readonly header: string; readonly value: string }
  readonly tun?: { readonly device: string }
}

/** The record of a session (pure; `now` is when it became ready). */
export function localRecordOf(
  session: SessionFacts,
  now: Date,
  context?: string,
): Omit<LocalSessionRecord, 'process' | 'state'> {
  const ports = [
    ...(session.socks ? [`socks ${session.socks.port}`] : []),
    ...(session.http ? [`http ${session.http.port}`] : []),
    ...(session.expose ?? []).map((m) => `${m.local}→${m.remote}`),
  ]
  const target =
    session.kind === 'connect'
      ? session.tun
        ? `tun ${session.tun.device}`
        : 'socks'
      : `${session.service ?? '?'}${session.mark ? ` (${session.mark.header}=${session.mark.value})` : ''}`
  return {
    id: session.id,
    verb: session.kind,
    namespace: session.namespace,
    ...(context === undefined ? {} : { context }),
    target,
    ports,
    startedAt: now.toISOString(),
  }
}

/**
 * Registers a ready session under `stateDir` and removes the record when the session ends; the
 * record says `closing` from the moment `close()` is called. Returns the record's handle
 * (closing it early unregisters).
 */
export async function trackLocalSession(
  session: SessionFacts & Pick<Session, 'close'>,
  options: { readonly stateDir: string; readonly context?: string; readonly host?: Host },
): Promise<LocalSessionFile> {
  const file = await writeLocalSession(
    options.host ?? realHost(),
    options.stateDir,
    localRecordOf(session, new Date(), options.context),
  )
  void session.ended.then(() => file.close())
  return file
}

/** One live local session for `ktx status`. */
export interface LocalSessionStatus extends LocalSessionRecord {
  readonly uptimeSeconds: number
}

/** What `localStatus` found. */
export interface LocalStatusReport {
  readonly sessions: readonly LocalSessionStatus[]
  /** Records of processes that are gone, removed now (their cluster side is `ktx clean`'s). */
  readonly stale: readonly LocalSessionRecord[]
}

/** Lists the live local sessions; removes stale records. */
export async function localStatus(options: {
  readonly stateDir: string
  readonly host?: Host
  readonly now?: Date
}): Promise<LocalStatusReport> {
  const scan = await scanLocalSessions(options.host ?? realHost(), options.stateDir)
  const now = (options.now ?? new Date()).getTime()
  for (const { path } of scan.stale) await rm(path, { force: true })
  return {
    sessions: scan.live.map((record) => ({
      ...record,
      uptimeSeconds: Math.max(0, Math.round((now - Date.parse(record.startedAt)) / 1000)),
    })),
    stale: scan.stale.map((s) => s.record),
  }
}
