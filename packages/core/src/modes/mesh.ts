/**
 * `mesh()`: only the requests that carry this developer's mark (header `version: <mark>` by
 * default) reach a process on this machine; everyone else keeps using the real pods.
 *
 * Setup, each step's undo registered the moment it succeeds:
 *   kube client → read the Service, check `--expose` (no writes yet) → probe the local ports →
 *   session Lease → shadow pod (role `mesh`, label `ktx.dev/mesh=<session>`; in manual mode also
 *   the Service's labels and `<key>=<mark>`) → Ready → port-forward → SSH → one reverse forward per
 *   pair →
 *   auto mode: this session's mesh Service → join the Service's router (router pod in router mode
 *   and a stuntman Service with the original selector, both owned by every meshing session's
 *   Lease; the first one makes them and points the Service at the router) → register the mark
 *   with the router over a port-forward to its control port.
 * Teardown runs backwards: the route goes with its control connection, the session leaves the
 * router (the last live one restores the Service and deletes router and stuntman), the mesh
 * Service, the reverse forwards, SSH, port-forward, the pod and the Lease go.
 */
import { AGENT_HEALTH_PORT, AGENT_SSH_PORT, MESH_LABEL } from '../contract.js'
import type { Session } from '../session.js'
import type { VersionMark } from './mesh/mark.js'
import { type MeshMode, type MeshOptions, resolveMeshOptions } from './mesh/options.js'
import { routeThroughRouter } from './mesh/router-route.js'
import { Arrivals } from './shared/routing.js'
import { planMeshTarget } from './mesh/target.js'
import type { PortMapping } from './shared/expose.js'
import {
  checkLocalPorts,
  describeMapping,
  freePort,
  startReverseForwards,
} from './shared/reverse-forwards.js'
import { buildSessionHandle } from './shared/session-handle.js'
import { createSetupContext } from './shared/setup.js'
import { followIntoService, openKube, openLease, openShadowTunnel } from './shared/shadow-tunnel.js'

/** A running mesh. Close it (or `await using` it) to stop receiving marked requests. */
export interface MeshSession extends Session {
  readonly kind: 'mesh'
  readonly mode: MeshMode
  /** The meshed Service. */
  readonly service: string
  /** The mark: requests with header `mark.header: mark.value` come here. */
  readonly mark: VersionMark
  /** Name of the shadow pod. */
  readonly pod: string
  /** Auto mode: the router pod the Service points at, and this session's own Service. */
  readonly router: string | undefined
  readonly meshService: string | undefined
  readonly expose: readonly PortMapping[]
  /** The Service port in front of the first exposed pod port (what a caller dials), if any. */
  readonly servicePort: number | undefined
}

/**
 * Meshes a Service: requests carrying the mark go to local ports. Resolves once the router routes
 * the mark here (auto) or the labelled shadow listens (manual); rejects after undoing what it did.
 * @throws UsageError (`KTX_OPTION_INVALID` for a bad `--versionMark` or mode, `KTX_EXPOSE_INVALID`)
 *   / KubeApiError (`KTX_SERVICE_NOT_FOUND`, `KTX_SERVICE_NO_SELECTOR`, shadow and router failures)
 *   / ConflictError (`KTX_SERVICE_LOCKED`: an exchange holds it; `KTX_MESH_MARK_TAKEN`: another
 *   session uses the mark, named) / TimeoutError / TunnelError / PermissionError, or `signal.reason`.
 */
export async function mesh(options: MeshOptions): Promise<MeshSession> {
  const opts = resolveMeshOptions(options)
  const ctx = createSetupContext(opts)
  try {
    const kube = await openKube(ctx, opts.kube, opts.timeouts.kubeRequestMs)
    const target = await ctx.step(
      'target.resolve',
      () => planMeshTarget(kube, opts, ctx.signal),
      opts.service,
    )
    const closedLocalPorts = await checkLocalPorts(ctx, opts)
    const lease = await openLease(ctx, kube, {
      verb: 'mesh',
      owner: opts.owner,
      durationSeconds: opts.leaseDurationSeconds,
    })
    const remotes = opts.expose.map((m) => m.remote)
    const { mark } = opts
    const tunnel = await openShadowTunnel(ctx, kube, lease, {
      spec: {
        name: `ktx-mesh-${target.name.slice(0, 30)}-${ctx.id}`,
        owner: opts.owner,
        image: opts.image,
        role: 'mesh',
        labels: {
          // Manual mode: one of the Service's pods to the cluster, told apart by the mark label.
          ...(opts.mode === 'manual' ? { ...target.selector, [mark.header.toLowerCase()]: mark.value } : {}),
          [MESH_LABEL]: ctx.id,
        },
        ports: target.plan.shadowPorts,
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
    const routed =
      opts.mode === 'auto'
        ? await routeThroughRouter(ctx, kube, {
            opts,
            target,
            lease,
            mark,
            shadow: {
              get ip() {
                return tunnel.podIP
              },
              dialer: tunnel,
              arrivals,
            },
          })
        : undefined
    if (routed)
      followIntoService(ctx, kube, tunnel, {
        service: routed.meshService,
        timeoutMs: opts.timeouts.endpointsMs,
      })
    ctx.emit({ type: 'step.done', step: 'ready' })

    return buildSessionHandle(
      'mesh',
      {
        id: ctx.id,
        namespace: kube.namespace,
        mode: opts.mode,
        service: target.name,
        mark,
        get pod() {
          return tunnel.pod
        },
        router: routed?.router,
        meshService: routed?.meshService,
        expose: opts.expose,
        servicePort: target.targets.find((t) => t.resolved === opts.expose[0]?.remote)?.port,
      },
      {
        ctx,
        lease,
        tunnel,
        // A route that could not be put back: nothing marked would come.
        ...(routed ? { failure: routed.route.ended } : {}),
      },
    )
  } catch (error) {
    throw await ctx.fail(error)
  }
}
