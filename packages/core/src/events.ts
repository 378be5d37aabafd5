/** Stable ids of the setup steps a session reports through `onEvent`. */
export type StepId =
  | 'kube.connect'
  | 'lease.create'
  | 'shadow.create'
  | 'shadow.ready'
  | 'port-forward.open'
  | 'ssh.connect'
  | 'socks.listen'
  | 'http.listen'
  | 'tun.preflight'
  | 'routes.plan'
  | 'tun.up'
  | 'routes.apply'
  | 'dns.start'
  | 'tunnel.probe'
  | 'target.resolve'
  | 'service.lock'
  | 'reverse.listen'
  | 'service.switch'
  | 'workload.scale'
  | 'mesh.service'
  | 'mesh.router'
  | 'mesh.route'
  | 'service.claim'
  | 'service.create'
  | 'ready'

/**
 * Progress as data: core says what happened, the caller decides how it looks.
 * `step.*` events come in start → done|fail pairs; the rest are runtime events.
 */
export type SessionEvent =
  | { readonly type: 'step.start'; readonly step: StepId; readonly detail?: string }
  | { readonly type: 'step.done'; readonly step: StepId; readonly detail?: string }
  | { readonly type: 'step.fail'; readonly step: StepId; readonly error: unknown }
  /** The tunnel could not be rebuilt in time (`timeouts.reconnectMs`): the session ends. */
  | { readonly type: 'tunnel.down'; readonly error: unknown }
  /** The tunnel broke; it is being rebuilt while the session keeps its local side in place. */
  | { readonly type: 'tunnel.degraded'; readonly error: unknown }
  /** The tunnel works again, after `downMs`; `replaced`: over a new shadow pod. */
  | {
      readonly type: 'tunnel.restored'
      readonly pod: string
      readonly replaced: boolean
      readonly downMs: number
      readonly attempts: number
    }
  | { readonly type: 'heartbeat.failed'; readonly error: unknown }
  | { readonly type: 'cleanup.step'; readonly name: string }
  | { readonly type: 'cleanup.failed'; readonly name: string; readonly error: unknown }
  /** Something the user should know that does not stop the session. */
  | { readonly type: 'warning'; readonly message: string }
  /** Exchange: nothing accepts on a local port (at start, or when a caller arrived). */
  | {
      readonly type: 'local.unreachable'
      readonly host: string
      readonly port: number
      readonly remote: number
      readonly error: unknown
    }
  /** Exchange: someone re-applied the Service; ktx pointed it at the shadow pod again. */
  | {
      readonly type: 'service.repointed'
      readonly service: string
      readonly previous: Readonly<Record<string, string>>
    }
  /** Exchange: a dead session's lock was found and its changes undone before taking over. */
  | {
      readonly type: 'lock.recovered'
      readonly service: string
      readonly session: string
      readonly owner: string
      readonly lastAlive: string
    }

/** Receives {@link SessionEvent}s. Must not throw; if it does, the error is logged and ignored. */
export type EventHandler = (event: SessionEvent) => void
