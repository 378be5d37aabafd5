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
  | 'ready'

/**
 * Progress as data: core says what happened, the caller decides how it looks.
 * `step.*` events come in start → done|fail pairs; the rest are runtime events.
 */
export type SessionEvent =
  | { readonly type: 'step.start'; readonly step: StepId; readonly detail?: string }
  | { readonly type: 'step.done'; readonly step: StepId; readonly detail?: string }
  | { readonly type: 'step.fail'; readonly step: StepId; readonly error: unknown }
  | { readonly type: 'tunnel.down'; readonly error: unknown }
  | { readonly type: 'heartbeat.failed'; readonly error: unknown }
  | { readonly type: 'cleanup.step'; readonly name: string }
  | { readonly type: 'cleanup.failed'; readonly name: string; readonly error: unknown }

/** Receives {@link SessionEvent}s. Must not throw; if it does, the error is logged and ignored. */
export type EventHandler = (event: SessionEvent) => void
