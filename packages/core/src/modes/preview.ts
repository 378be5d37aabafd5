/**
 * `preview()`: a process on this machine appears in the cluster as a new Service `<name>`.
 *
 * Setup, each step's undo registered the moment it succeeds:
 *   kube client → claim the name (no Service `<name>`; a dead preview's is taken over, anything
 *   else refused, before anything is made) → probe the local ports (a closed one is a warning) →
 *   session Lease → shadow pod (role `preview`, label `ktx.dev/preview=<session>`, the remote
 *   ports declared) → Ready → port-forward → SSH → one reverse forward per pair (the agent listens
 *   on 0.0.0.0:<remote> in the pod, carried to <localHost>:<local>) → the Service `<name>`
 *   (ClusterIP, or LoadBalancer for `external`; selector the session label; owned by the Lease so
 *   a lapsed session's Service is garbage-collected with its Lease) → its endpoints are the shadow
 *   → a probe to its ClusterIP from inside the cluster comes back to this machine.
 * Teardown runs backwards: delete the Service (and wait until it is gone), stop the reverse
 * forwards, SSH, port-forward, delete the pod, delete the Lease.
 */
import { AGENT_HEALTH_PORT, AGENT_SSH_PORT, PREVIEW_LABEL } from '../contract.js'
import type { Session } from '../session.js'
import { claimServiceName } from './preview/claim.js'
import { type PreviewOptions, resolvePreviewOptions } from './preview/options.js'
import { publishService } from './preview/publish.js'
import type { PortMapping } from './shared/expose.js'
import {
  checkLocalPorts,
  describeMapping,
  freePort,
  startReverseForwards,
} from './shared/reverse-forwards.js'
import { Arrivals } from './shared/routing.js'
import { buildSessionHandle } from './shared/session-handle.js'
import { createSetupContext } from './shared/setup.js'
import { followIntoService, openKube, openLease, openShadowTunnel } from './shared/shadow-tunnel.js'

/** A running preview. Close it (or `await using` it) to delete the Service and the shadow pod. */
export interface PreviewSession extends Session {
  readonly kind: 'preview'
  /** Name of the Service (what callers in the cluster dial: `<service>.<namespace>:<remote>`). */
  readonly service: string
  readonly type: 'ClusterIP' | 'LoadBalancer'
  /** The Service's ClusterIP. */
  readonly clusterIP: string | undefined
  /** Name of the shadow pod. */
  readonly pod: string
  /** Each Service port (`remote`) and the local port that answers it. */
  readonly expose: readonly PortMapping[]
}

/**
 * Publishes local ports as a new Service. Resolves once the Service routes to the shadow pod;
 * rejects after undoing whatever it had done.
 * @throws UsageError (`KTX_OPTION_INVALID` for a bad name or option, `KTX_EXPOSE_INVALID`) /
 *   ConflictError `KTX_SERVICE_EXISTS` (a Service of that name that ktx did not make; nothing is
 *   created) or `KTX_SERVICE_LOCKED` (a live preview of that name, naming its owner) /
 *   TimeoutError (`KTX_SHADOW_NOT_READY`, `KTX_ENDPOINTS_NOT_READY`) / KubeApiError /
 *   TunnelError / PermissionError, or `signal.reason` if aborted.
 */
export async function preview(options: PreviewOptions): Promise<PreviewSession> {
  const opts = resolvePreviewOptions(options)
  const ctx = createSetupContext(opts)
  try {
    const kube = await openKube(ctx, opts.kube, opts.timeouts.kubeRequestMs)
    const claim = await ctx.step('service.claim', () => claimServiceName(ctx, kube, opts.name), opts.name)
    const closedLocalPorts = await checkLocalPorts(ctx, opts)
    const lease = await openLease(ctx, kube, {
      verb: 'preview',
      owner: opts.owner,
      durationSeconds: opts.leaseDurationSeconds,
    })
    const remotes = opts.expose.map((m) => m.remote)
    const tunnel = await openShadowTunnel(ctx, kube, lease, {
      spec: {
        name: `ktx-preview-${opts.name.slice(0, 30)}-${ctx.id}`,
        owner: opts.owner,
        image: opts.image,
        role: 'preview',
        labels: { [PREVIEW_LABEL]: ctx.id },
        ports: remotes.map((containerPort) => ({ containerPort })),
        sshPort: freePort(AGENT_SSH_PORT, remotes),
        healthPort: freePort(AGENT_HEALTH_PORT, remotes),
      },
      timeouts: opts.timeouts,
    })
    const arrivals = new Arrivals()
    await ctx.step(
      'reverse.listen',
      () => startReverseForwards(ctx, tunnel, { ...opts, closedLocalPorts, onArrival: arrivals.record }),
      opts.expose.map(describeMapping).join(', '),
    )
    const service = await publishService(ctx, kube, opts, { lease, tunnel, arrivals }, claim)
    followIntoService(ctx, kube, tunnel, { service: opts.name, timeoutMs: opts.timeouts.endpointsMs })
    ctx.emit({ type: 'step.done', step: 'ready' })
    return buildSessionHandle(
      'preview',
      {
        id: ctx.id,
        namespace: kube.namespace,
        service: opts.name,
        type: opts.external ? 'LoadBalancer' : 'ClusterIP',
        clusterIP: service.spec?.clusterIP,
        get pod() {
          return tunnel.pod
        },
        expose: opts.expose,
      },
      { ctx, lease, tunnel },
    )
  } catch (error) {
    throw await ctx.fail(error)
  }
}
