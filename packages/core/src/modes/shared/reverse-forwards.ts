/**
 * The inbound half every verb that brings cluster traffic to this machine shares (exchange, mesh,
 * preview): check the local ports, then one SSH remote forward per `--expose` pair, so the agent
 * listens on `0.0.0.0:<remote>` in its pod and carries each connection to `<localHost>:<local>`.
 */
import { type RemoteListener, type ReverseForward, startReverseForward } from '../../tunnel/reverse.js'
import type { PortMapping } from './expose.js'
import { probeLocalPort } from './local-probe.js'
import type { SetupContext } from './setup.js'

/** What to forward, and where on this machine. */
export interface ForwardTargets {
  readonly expose: readonly PortMapping[]
  readonly localHost: string
}

/**
 * Warns (event `local.unreachable`) about local ports nobody listens on yet: allowed, since the
 * developer may start the process later. Returns the closed ones, so {@link startReverseForwards}
 * does not warn about them a second time.
 */
export async function checkLocalPorts(ctx: SetupContext, targets: ForwardTargets): Promise<Set<number>> {
  const results = await Promise.all(targets.expose.map((m) => probeLocalPort(targets.localHost, m.local)))
  const closed = new Set<number>()
  results.forEach((error, i) => {
    const mapping = targets.expose[i]
    if (error === undefined || mapping === undefined) return
    closed.add(mapping.local)
    reportUnreachable(ctx, targets.localHost, mapping, error)
  })
  return closed
}

/**
 * One reverse forward per pair, each stopped on teardown; a refused local connection is reported
 * once until one succeeds. `onArrival` is called for every inbound connection (exchange's routing
 * probe counts them).
 */
export async function startReverseForwards(
  ctx: SetupContext,
  ssh: RemoteListener,
  targets: ForwardTargets & {
    readonly closedLocalPorts: ReadonlySet<number>
    readonly onArrival?: () => void
  },
): Promise<void> {
  for (const mapping of targets.expose) {
    let reported = targets.closedLocalPorts.has(mapping.local)
    const forward: ReverseForward = await startReverseForward({
      ssh,
      remotePort: mapping.remote,
      localHost: targets.localHost,
      localPort: mapping.local,
      logger: ctx.log,
      onLocalError: (error) => {
        if (reported) return
        reported = true
        reportUnreachable(ctx, targets.localHost, mapping, error)
      },
      onLocalConnect: () => {
        reported = false
      },
      ...(targets.onArrival ? { onArrival: targets.onArrival } : {}),
    })
    ctx.stack.defer(`stop forwarding ${describeMapping(mapping)}`, () => forward.close())
    ctx.log.debug('Reverse forward listening', { remote: mapping.remote, local: mapping.local })
  }
}

function reportUnreachable(ctx: SetupContext, host: string, mapping: PortMapping, error: Error): void {
  ctx.emit({ type: 'local.unreachable', host, port: mapping.local, remote: mapping.remote, error })
}

/** The agent's own ports move out of the way of the ports the Service needs. */
export function freePort(preferred: number, taken: readonly number[]): number {
  let port = preferred
  while (taken.includes(port)) port += 1
  return port
}

/** `pod :80 → localhost:3000`. */
export function describeMapping(mapping: PortMapping): string {
  return `pod :${mapping.remote} → localhost:${mapping.local}`
}
