/** How a session ended. */
export interface SessionEnd {
  readonly reason: 'closed' | 'destroyed' | 'failed'
  /** Set when `reason` is `failed` (e.g. the tunnel died), or when close() left something behind. */
  readonly error?: unknown
}

/** What every ktx session handle offers. */
export interface Session extends AsyncDisposable {
  /** Random id; also the `ktx.dev/session` label on the session's cluster objects. */
  readonly id: string
  readonly kind: 'connect' | 'exchange' | 'mesh' | 'preview'
  /** `degraded` while a broken tunnel is being rebuilt (events `tunnel.degraded` → `tunnel.restored`). */
  readonly state: 'ready' | 'degraded' | 'closing' | 'closed'
  /** Namespace the session's objects live in. */
  readonly namespace: string
  /** Settles once, for any reason (close, destroy, a lost tunnel). Never rejects. */
  readonly ended: Promise<SessionEnd>
  /**
   * Graceful teardown: stops local listeners, closes the tunnel and deletes every cluster object
   * the session made. Idempotent (memoised).
   * @throws CleanupError (`KTX_CLEANUP_INCOMPLETE`) listing what may be left.
   */
  close(): Promise<void>
  /**
   * Hurries the teardown (starting {@link close} if it has not started): every undo still runs
   * (Services and workloads are put back, objects deleted, this machine restored), but the waits
   * that confirm them (endpoints, probes, pods going away) are skipped. For a second Ctrl+C.
   * Settles like close().
   */
  hurry(): Promise<void>
  /** Immediate teardown: sockets are destroyed now, cluster deletes are only started. */
  destroy(reason?: unknown): void
}

/** Local proxy addresses. */
export interface ProxyEndpoint {
  readonly host: string
  readonly port: number
  /** `socks5h://…` or `http://…` (without the credentials). */
  readonly url: string
  /** What the proxy requires when started with `proxyAuth`. */
  readonly credentials?: { readonly username: string; readonly password: string }
}
