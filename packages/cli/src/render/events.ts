import type { SessionEvent, StepId } from '@ktx/core'
import { messageOf } from '@ktx/core/local'

import { formatLabels } from './format.js'

/** Whatever `onEvent` may receive: core's events, and ones a newer core adds. */
export type AnyEvent = SessionEvent | { readonly type: string }

const KNOWN = new Set<string>([
  'step.start',
  'step.done',
  'step.fail',
  'tunnel.down',
  'tunnel.degraded',
  'tunnel.restored',
  'heartbeat.failed',
  'cleanup.step',
  'cleanup.failed',
  'warning',
  'local.unreachable',
  'service.repointed',
  'lock.recovered',
])

/** Narrows an event to the ones this CLI knows by name. */
export function isKnownEvent(event: AnyEvent): event is SessionEvent {
  return KNOWN.has(event.type)
}

const STEP_TEXT: Readonly<Record<StepId, string>> = {
  'kube.connect': 'Loading kubeconfig',
  'lease.create': 'Creating session lease',
  'shadow.create': 'Creating shadow pod',
  'shadow.ready': 'Waiting for the shadow pod to be ready',
  'port-forward.open': 'Opening port-forward',
  'ssh.connect': 'Connecting SSH tunnel',
  'socks.listen': 'Starting SOCKS5 proxy',
  'http.listen': 'Starting HTTP proxy',
  'tun.preflight': 'Checking root, tun2socks and the TUN device name',
  'routes.plan': 'Planning routes',
  'tun.up': 'Creating the TUN device and starting tun2socks',
  'routes.apply': 'Adding routes',
  'dns.start': 'Setting up DNS',
  'tunnel.probe': 'Probing TCP and DNS through the tunnel',
  'target.resolve': 'Looking up the Service and its ports',
  'service.lock': 'Locking the Service',
  'reverse.listen': 'Listening in the shadow pod',
  'service.switch': 'Pointing the Service at the shadow pod',
  'workload.scale': 'Scaling the workload to 0',
  'service.claim': 'Checking that the Service name is free',
  'service.create': 'Creating the Service',
  'mesh.service': "Creating this session's mesh Service",
  'mesh.router': 'Joining the mesh router and pointing the Service at it',
  'mesh.route': 'Registering the version mark with the router',
  ready: 'Ready',
}

/** What a step is called on screen; a step a newer core adds shows by its id. */
export function stepText(step: StepId, detail?: string): string {
  const known = (STEP_TEXT as Partial<Record<string, string>>)[step] ?? step
  return detail ? `${known} (${detail})` : known
}

/** One progress line for an event, or undefined for events not worth a line at normal verbosity. */
export function renderEvent(event: AnyEvent, debug: boolean): string | undefined {
  if (!isKnownEvent(event)) return `Event ${event.type}${fieldsOf(event)}`
  switch (event.type) {
    case 'step.start':
      return `${stepText(event.step, event.detail)} …`
    case 'step.done':
      return debug ? `${stepText(event.step)}: done` : undefined
    case 'step.fail':
      return undefined
    case 'tunnel.down':
      return `Tunnel lost: ${messageOf(event.error)}`
    case 'tunnel.degraded':
      return `Tunnel to the cluster broke (${messageOf(event.error)}); reconnecting …`
    case 'tunnel.restored':
      return `Tunnel back after ${(event.downMs / 1000).toFixed(1)}s${event.replaced ? ` over a new shadow pod (${event.pod})` : ''}`
    case 'heartbeat.failed':
      return debug ? `Lease renewal failed: ${messageOf(event.error)}` : undefined
    case 'cleanup.step':
      return `Cleaning up: ${event.name}`
    case 'cleanup.failed':
      return `Cleanup step failed: ${event.name}: ${messageOf(event.error)}`
    case 'warning':
      return `Warning: ${event.message}`
    case 'local.unreachable':
      return `Warning: nothing listens on ${event.host}:${event.port} (for pod port ${event.remote}); callers get a connection reset until it does`
    case 'service.repointed':
      return `Service ${event.service} was changed (selector ${formatLabels(event.previous) || 'empty'}); pointed it at the shadow pod again`
    case 'lock.recovered':
      return `${event.service} was left by session ${event.session} of ${event.owner} (${event.lastAlive}); restored it before taking over`
  }
}

// An event this CLI does not know yet still says what it carries.
function fieldsOf(event: { readonly type: string }): string {
  const rest = Object.entries(event as Record<string, unknown>).filter(([key]) => key !== 'type')
  if (rest.length === 0) return ''
  return ` ${rest.map(([key, value]) => `${key}=${value instanceof Error ? value.message : JSON.stringify(value)}`).join(' ')}`
}
