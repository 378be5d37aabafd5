/**
 * Auto mode's steps after the shadow listens: this session's own Service in front of its shadow,
 * the shared router (joined, or founded), and the route for this session's mark, registered over
 * a port-forward to the router's control port. The route lives with that control connection, so a
 * session that dies (even by `kill -9`) stops receiving marked requests as soon as its
 * port-forward drops; everyone else's routes stay.
 */
import type { V1Service } from '@kubernetes/client-node'

import { LABELS, MESH_LABEL } from '../../contract.js'
import type { Kube } from '../../kube/client.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import { ktxLabels, sessionAnnotations } from '../../kube/labels.js'
import { type SessionLease, deleteIgnoringMissing } from '../../kube/lease.js'
import type { Dialer } from '../../tunnel/dialer.js'
import {
  type JoinedMeshGroup,
  joinMeshGroup,
  leaveMeshGroup,
  meshGroupNames,
  routerPortsFor,
} from '../shared/mesh-group.js'
import { type Arrivals, confirmOrWarn } from '../shared/routing.js'
import type { SetupContext } from '../shared/setup.js'
import type { VersionMark } from './mark.js'
import type { ResolvedMeshOptions } from './options.js'
import { type KeptRoute, keepRoute } from './router-link.js'
import type { MeshTarget } from './target.js'

/** The session's shadow pod: its IP, a dialer from inside it, and what arrives back from it. */
export interface MeshShadow {
  /** Read at each wait (a getter follows a replacement pod). */
  readonly ip: string
  readonly dialer: Dialer
  readonly arrivals: Arrivals
}

/** What auto mode set up. */
export interface RoutedMesh {
  readonly router: string
  readonly routerIP: string
  /** This session's Service (in front of its shadow). */
  readonly meshService: string
  /** This session's route, kept while the router's control connection comes and goes. */
  readonly route: KeptRoute
}

/** Steps `mesh.service`, `mesh.router`, `mesh.route`; each undo registered as it succeeds. */
export async function routeThroughRouter(
  ctx: SetupContext,
  kube: Kube,
  input: {
    readonly opts: ResolvedMeshOptions
    readonly target: MeshTarget
    readonly lease: SessionLease
    readonly mark: VersionMark
    readonly shadow: MeshShadow
  },
): Promise<RoutedMesh> {
  const { opts, target, lease, shadow } = input
  const meshService = await ctx.step('mesh.service', async () => {
    const created = await createMeshService(ctx, kube, { target, lease, opts })
    await waitMeshServiceEndpoint(ctx, kube, created, {
      shadowIP: shadow.ip,
      timeoutMs: opts.timeouts.endpointsMs,
    })
    return created
  })
  const names = meshGroupNames(target.name)
  const group = await ctx.step(
    'mesh.router',
    () =>
      joinMeshGroup(kube, {
        names,
        service: target.service,
        originalSelector: target.selector,
        ports: routerPortsFor(target.targets),
        owner: lease.ownerReference,
        ownerName: opts.owner,
        image: opts.image,
        podReadyMs: opts.timeouts.podReadyMs,
        endpointsMs: opts.timeouts.endpointsMs,
        logger: ctx.log,
        signal: ctx.signal,
      }),
    names.router,
  )
  deferLeave(ctx, kube, group, lease, opts)
  const route = await ctx.step('mesh.route', async () => {
    const registered = await registerRoute(ctx, kube, group, meshService, input)
    await confirmMarkedRouting(ctx, { target, opts, mark: input.mark, shadow })
    return registered
  })
  return {
    router: names.router,
    routerIP: group.routerIP,
    meshService: meshService.name,
    route,
  }
}

function deferLeave(
  ctx: SetupContext,
  kube: Kube,
  group: JoinedMeshGroup,
  lease: SessionLease,
  opts: ResolvedMeshOptions,
): void {
  ctx.stack.defer(
    'leave the mesh router (the last one out restores the Service)',
    async (signal) => {
      const outcome = await leaveMeshGroup(kube, group, {
        ownerUid: lease.ownerReference.uid,
        endpointsMs: opts.timeouts.endpointsMs,
        warn: (message) => {
          ctx.emit({ type: 'warning', message })
        },
        signal,
      })
      ctx.log.info(
        outcome === 'restored'
          ? 'Last mesh of the Service ended: Service restored, router removed'
          : 'Other meshes of the Service remain: router left running',
        { service: group.names.service },
      )
    },
    { timeoutMs: opts.timeouts.endpointsMs + opts.timeouts.cleanupStepMs },
  )
}

// ClusterIP Service `<svc>-ktx-mesh-<session>` selecting only this session's shadow; the router
// sends marked requests to it. Owned by the Lease, so it goes with the session even after kill -9.
async function createMeshService(
  ctx: SetupContext,
  kube: Kube,
  input: { readonly target: MeshTarget; readonly lease: SessionLease; readonly opts: ResolvedMeshOptions },
): Promise<{ readonly name: string; readonly clusterIP: string }> {
  const { target, lease, opts } = input
  const namespace = kube.namespace
  const name = `${target.name.slice(0, 40)}-ktx-mesh-${ctx.id}`
  const remotes = [...new Set(opts.expose.map((m) => m.remote))]
  const body: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      labels: ktxLabels(ctx.id, 'mesh'),
      annotations: sessionAnnotations(opts.owner),
      ownerReferences: [lease.ownerReference],
    },
    spec: {
      type: 'ClusterIP',
      selector: { [MESH_LABEL]: ctx.id, [LABELS.session]: ctx.id },
      ports: remotes.map((port) => ({ name: `p${port}`, port, targetPort: port, protocol: 'TCP' })),
    },
  }
  const created = await kube.call(
    { verb: 'create', resource: 'services', namespace },
    (o) => kube.core.createNamespacedService({ namespace, body }, o),
    ctx.signal,
  )
  ctx.stack.defer(
    'delete the mesh Service',
    (signal) =>
      deleteIgnoringMissing(() =>
        kube.call(
          { verb: 'delete', resource: 'services', namespace, name },
          (o) => kube.core.deleteNamespacedService({ name, namespace }, o),
          signal,
        ),
      ),
    { leftover: { kind: 'Service', name, namespace } },
  )
  return { name, clusterIP: created.spec?.clusterIP ?? '' }
}

// The router dials the mesh Service's ClusterIP, which the cluster's proxy can only send to the
// shadow once the EndpointSlice lists it.
async function waitMeshServiceEndpoint(
  ctx: SetupContext,
  kube: Kube,
  service: { readonly name: string },
  input: { readonly shadowIP: string; readonly timeoutMs: number },
): Promise<void> {
  await waitServiceEndpoints(kube, {
    service: service.name,
    until: (ips) => ips.has(input.shadowIP),
    awaited: `the shadow pod (${input.shadowIP})`,
    timeoutMs: input.timeoutMs,
    signal: ctx.signal,
  })
}

// The router's endpoints being listed is not the cluster's proxy sending to it yet (a keep-alive
// caller would stay on the old pod for its whole connection). Confirmed the way exchange confirms
// its switch: marked requests dialled to the Service's ClusterIP from inside the shadow must come
// back out of the shadow's own reverse forwards, through the router. `OPTIONS *` asks nothing of
// the local process.
async function confirmMarkedRouting(
  ctx: SetupContext,
  input: {
    readonly target: MeshTarget
    readonly opts: ResolvedMeshOptions
    readonly mark: VersionMark
    readonly shadow: MeshShadow
  },
): Promise<void> {
  const { target, opts, mark, shadow } = input
  const clusterIP = target.service.spec?.clusterIP
  const port = target.targets.find((t) => t.resolved === opts.expose[0]?.remote)?.port
  if (!clusterIP || clusterIP === 'None' || port === undefined) return
  const request = `OPTIONS * HTTP/1.1\r\nHost: ${target.name}\r\n${mark.header}: ${mark.value}\r\nConnection: close\r\n\r\n`
  const marked: Dialer = {
    async dial(host, dialPort) {
      const socket = await shadow.dialer.dial(host, dialPort)
      socket.write(request)
      return socket
    },
  }
  await confirmOrWarn(ctx, target.name, {
    dialer: marked,
    arrivals: shadow.arrivals,
    host: clusterIP,
    port,
    want: 'shadow',
    timeoutMs: opts.timeouts.endpointsMs,
    // Router → mesh Service → shadow → SSH: more hops than exchange's probe, still no round trip.
    arrivalWindowMs: 1_000,
    signal: ctx.signal,
  })
}

async function registerRoute(
  ctx: SetupContext,
  kube: Kube,
  group: JoinedMeshGroup,
  meshService: { readonly clusterIP: string },
  input: { readonly opts: ResolvedMeshOptions; readonly mark: VersionMark },
): Promise<KeptRoute> {
  const { opts, mark } = input
  const targets: Record<string, string> = {}
  for (const remote of new Set(opts.expose.map((m) => m.remote))) {
    targets[String(remote)] = `${meshService.clusterIP}:${remote}`
  }
  return keepRoute(ctx, kube, {
    router: group.names.router,
    route: { session: ctx.id, header: mark.header, value: mark.value, targets },
    opts,
  })
}
