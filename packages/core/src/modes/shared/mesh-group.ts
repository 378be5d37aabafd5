/**
 * The part of `ktx mesh` (auto mode) that several developers share for one Service: a router pod
 * (the agent in router mode) that the Service is pointed at, and a stuntman Service with the
 * original selector that the router sends unmarked requests to. Both list every meshing session's
 * Lease in their ownerReferences, so they live while any session does, whoever came first; the
 * last one out (or `clean`, once every owner is dead) puts the Service back from its
 * `ktx.dev/mesh` record and deletes them.
 *
 * Join: stuntman (create, or add our Lease to its owners) → router (same; told the stuntman's
 * ClusterIP) → router Ready → point the Service at the router. Leave: drop our Lease from both; if
 * no live owner is left, restore the Service and delete the router, then the stuntman, each with a
 * resourceVersion precondition, so a developer who joined meanwhile makes the delete fail (and we
 * give the Service back to the router) instead of losing the router.
 */
import type { V1OwnerReference, V1Pod, V1Service } from '@kubernetes/client-node'

import {
  AGENT_CONTROL_PORT,
  AGENT_ENV,
  AGENT_HEALTH_PORT,
  AGENT_SSH_PORT,
  ANNOTATIONS,
  LABELS,
  MESH_GROUP_LABEL,
  encodeRouterPorts,
} from '../../contract.js'
import { ConflictError, KubeApiError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import { guardedUpdate, isConflict } from '../../kube/guarded-update.js'
import { annotationOps } from '../../kube/json-patch.js'
import { ktxLabels, sessionAnnotations } from '../../kube/labels.js'
import { deleteIgnoringMissing } from '../../kube/lease.js'
import { judgeLease } from '../../kube/liveness.js'
import { type OwnedAccess, addOwner, removeOwner } from '../../kube/owners.js'
import { readLock, readMeshRecord, sameLabels, formatRecord } from '../../kube/redirect-state.js'
import { findService, patchService } from '../../kube/service.js'
import { buildShadowPod } from '../../kube/shadow-spec.js'
import { deletePodAndWait, readPod, waitPodReady } from '../../kube/shadow.js'
import type { Logger } from '../../logger.js'
import { generateSessionKey } from '../../tunnel/keys.js'
import type { TargetPort } from './target-ports.js'
import { freePort } from './reverse-forwards.js'

/** The shared objects of one meshed Service. */
export interface MeshGroupNames {
  readonly service: string
  readonly router: string
  readonly stuntman: string
}

/** Deterministic per Service, so every developer meshing it finds the same router. */
export function meshGroupNames(service: string): MeshGroupNames {
  // Service names are at most 63 characters, as must the stuntman's be.
  const stem = service.slice(0, 49)
  return { service, router: `ktx-router-${service}`, stuntman: `${stem}-ktx-stuntman` }
}

/** The selector a meshed Service carries: the router pod of its group. */
function routerSelector(service: string): Record<string, string> {
  return { [MESH_GROUP_LABEL]: service, [LABELS.role]: 'router' }
}

/** One port the router listens on: a target port of the Service, and the Service port behind it. */
export interface RouterListen {
  /** The container port the Service's targetPort resolves to (the router listens here). */
  readonly port: number
  /** The targetPort's name when it is one, declared on the router so it resolves there too. */
  readonly name?: string
  /** The Service port whose target this is: the stuntman's port for unmarked requests. */
  readonly servicePort: number
}

/** The router's ports for a Service's resolved target ports (one per distinct container port). */
export function routerPortsFor(targets: readonly TargetPort[]): RouterListen[] {
  const byPort = new Map<number, RouterListen>()
  for (const t of targets) {
    if (t.resolved === undefined || byPort.has(t.resolved)) continue
    const name = typeof t.target === 'string' && !/^\d+$/.test(t.target) ? t.target : undefined
    byPort.set(t.resolved, { port: t.resolved, ...(name ? { name } : {}), servicePort: t.port })
  }
  return [...byPort.values()]
}

/** What {@link joinMeshGroup} needs. */
export interface JoinMeshGroup {
  readonly names: MeshGroupNames
  /** The Service as read before joining; its ports shape the stuntman. */
  readonly service: V1Service
  /** The selector of the real pods (the mesh record's, when the Service is meshed already). */
  readonly originalSelector: Readonly<Record<string, string>>
  readonly ports: readonly RouterListen[]
  /** This session's Lease. */
  readonly owner: V1OwnerReference
  /** `user@host`. */
  readonly ownerName: string
  readonly image: string
  readonly podReadyMs: number
  readonly endpointsMs: number
  readonly logger: Logger
  readonly signal: AbortSignal
}

/** A joined group: the router to register routes with. */
export interface JoinedMeshGroup {
  readonly names: MeshGroupNames
  readonly routerIP: string
}

// A router being deleted by the last developer out is waited for and made again; more rounds mean
// others keep racing us.
const JOIN_ROUNDS = 4

/**
 * Joins (or founds) the Service's mesh group and points the Service at the router.
 * @throws ConflictError `KTX_SERVICE_LOCKED` (the Service is exchanged), KubeApiError for the
 *   router (`KTX_SHADOW_IMAGE_PULL`, …), TimeoutError, or `signal.reason`.
 */
export async function joinMeshGroup(kube: Kube, join: JoinMeshGroup): Promise<JoinedMeshGroup> {
  const { names, signal } = join
  for (let round = 1; ; round++) {
    // The stuntman first: the router is told its ClusterIP (a name could resolve, from the
    // cluster DNS's cache, to the address of a stuntman an earlier mesh deleted).
    const stuntmanIP = await ensureStuntman(kube, join)
    const router = await ensureRouter(kube, join, stuntmanIP)
    if (router.state === 'terminating') {
      if (round >= JOIN_ROUNDS) throw raceLost(names.service)
      await deletePodAndWait(kube, names.router, signal)
      continue
    }
    const ready = await waitPodReady(kube, {
      name: names.router,
      image: join.image,
      timeoutMs: join.podReadyMs,
      signal,
      logger: join.logger,
    }).catch((error: unknown) => {
      // Deleted under us by the last developer out: make it again.
      if (!signal.aborted && round < JOIN_ROUNDS && isVanished(error)) return undefined
      throw error
    })
    if (ready === undefined) continue
    const routerIP = ready.status?.podIP ?? ''
    await pointServiceAtRouter(kube, names, join.originalSelector, signal)
    await waitServiceEndpoints(kube, {
      service: names.service,
      until: (ips) => ips.size === 1 && ips.has(routerIP),
      awaited: `only the mesh router (${routerIP})`,
      timeoutMs: join.endpointsMs,
      signal,
    })
    return { names, routerIP }
  }
}

/** What {@link leaveMeshGroup} did. */
export type LeaveOutcome = 'stayed' | 'restored'

/**
 * Takes this session out of the group; the last live one restores the Service and deletes the
 * router and the stuntman. A slow endpoint switch is a warning (`warn`), not a failure.
 */
export async function leaveMeshGroup(
  kube: Kube,
  group: JoinedMeshGroup,
  options: {
    readonly ownerUid: string
    readonly endpointsMs: number
    readonly warn: (message: string) => void
    readonly signal: AbortSignal
  },
): Promise<LeaveOutcome> {
  const { names } = group
  const { signal } = options
  const router = await removeOwner(podAccess(kube, names.router, signal), options.ownerUid)
  const stuntman = await removeOwner(serviceAccess(kube, names.stuntman, signal), options.ownerUid)
  if (await anyOwnerAlive(kube, router.remaining, signal)) return 'stayed'
  return dissolve(kube, names, {
    routerVersion: router.resourceVersion,
    stuntmanVersion: stuntman.resourceVersion,
    routerIP: group.routerIP,
    endpointsMs: options.endpointsMs,
    warn: options.warn,
    signal,
  })
}

/** What {@link reapMeshGroup} found. */
export interface MeshReap {
  readonly state: 'not-meshed' | 'live' | 'restored'
  /** Leases of the live sessions meshing it (state `live`). */
  readonly liveOwners: readonly string[]
}

/**
 * For `clean` and `recover`: a meshed Service whose router has no live owner (every session was
 * killed, or the router is gone) is put back and the router and stuntman deleted. With `force`,
 * live owners' Leases are deleted first (which ends those sessions).
 */
export async function reapMeshGroup(
  kube: Kube,
  service: string,
  options: {
    readonly force: boolean
    /** Only say whether it would be restored (state `restored`), changing nothing. */
    readonly dryRun?: boolean
    readonly logger: Logger
    readonly signal?: AbortSignal
  },
): Promise<MeshReap> {
  const signal = options.signal ?? new AbortController().signal
  const found = await findService(kube, service, signal)
  const record = readMeshRecord(found?.metadata?.annotations)
  if (record.state !== 'valid') return { state: 'not-meshed', liveOwners: [] }
  const names = { service, router: record.value.router, stuntman: record.value.stuntman }
  const router = await podAccess(kube, names.router, signal).read()
  const owners = router?.metadata?.ownerReferences ?? []
  const live = await liveOwners(kube, owners, signal)
  if (live.length > 0 && !options.force) return { state: 'live', liveOwners: live }
  if (options.dryRun) return { state: 'restored', liveOwners: live }
  for (const lease of live) {
    options.logger.warn('Forcing recovery: deleting the Lease of a live mesh session', { lease })
    await deleteIgnoringMissing(() =>
      kube.call(
        { verb: 'delete', resource: 'leases', namespace: kube.namespace, name: lease },
        (o) => kube.coordination.deleteNamespacedLease({ name: lease, namespace: kube.namespace }, o),
        signal,
      ),
    )
  }
  const stuntman = await serviceAccess(kube, names.stuntman, signal).read()
  const outcome = await dissolve(kube, names, {
    routerVersion: router?.metadata?.resourceVersion,
    stuntmanVersion: stuntman?.metadata?.resourceVersion,
    routerIP: router?.status?.podIP ?? '',
    endpointsMs: 30_000,
    warn: (message) => options.logger.warn(message),
    signal,
  })
  return { state: outcome === 'restored' ? 'restored' : 'live', liveOwners: [] }
}

// The Service gets its selector back, then the router and stuntman go (unless someone joined).
async function dissolve(
  kube: Kube,
  names: MeshGroupNames,
  options: {
    readonly routerVersion: string | undefined
    readonly stuntmanVersion: string | undefined
    readonly routerIP: string
    readonly endpointsMs: number
    readonly warn: (message: string) => void
    readonly signal: AbortSignal
  },
): Promise<LeaveOutcome> {
  const { signal } = options
  const original = await restoreMeshedService(kube, names.service, signal)
  if (options.routerIP !== '') {
    await waitServiceEndpoints(kube, {
      service: names.service,
      until: (ips) => !ips.has(options.routerIP),
      awaited: 'its own pods',
      timeoutMs: options.endpointsMs,
      signal,
    }).catch((error: unknown) => {
      if (signal.aborted) throw error
      options.warn(`Service ${names.service} restored, but ${messageOf(error)}`)
    })
  }
  if (!(await deleteUnchanged(kube, 'pods', names.router, options.routerVersion, signal))) {
    // Someone joined while we left: the Service is theirs to use, give it back to the router.
    await pointServiceAtRouter(kube, names, original ?? {}, signal)
    return 'stayed'
  }
  await deleteUnchanged(kube, 'services', names.stuntman, options.stuntmanVersion, signal)
  await deletePodAndWait(kube, names.router, signal)
  return 'restored'
}

type RouterState = 'created' | 'joined' | 'terminating'

async function ensureRouter(
  kube: Kube,
  join: JoinMeshGroup,
  stuntmanIP: string,
): Promise<{ readonly state: RouterState }> {
  const { names, signal } = join
  const namespace = kube.namespace
  const listenPorts = join.ports.map((p) => p.port)
  const body = buildShadowPod({
    name: names.router,
    namespace,
    sessionId: undefined,
    owner: join.ownerName,
    image: join.image,
    // The router is driven over its control port, never over SSH; nobody holds this key's private half.
    authorizedKey: generateSessionKey('ktx-router').publicKey,
    ownerReferences: [join.owner],
    role: 'router',
    labels: { [MESH_GROUP_LABEL]: names.service },
    ports: join.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.port })),
    sshPort: freePort(AGENT_SSH_PORT, listenPorts),
    healthPort: freePort(AGENT_HEALTH_PORT, listenPorts),
    env: {
      [AGENT_ENV.mode]: 'router',
      [AGENT_ENV.controlPort]: String(freePort(AGENT_CONTROL_PORT, listenPorts)),
      [AGENT_ENV.routerPorts]: encodeRouterPorts(
        join.ports.map((p) => ({
          port: p.port,
          fallback: `${stuntmanIP}:${p.servicePort}`,
        })),
      ),
    },
  })
  const created = await createOrJoin(
    () =>
      kube.call(
        { verb: 'create', resource: 'pods', namespace },
        (o) => kube.core.createNamespacedPod({ namespace, body }, o),
        signal,
      ),
    podAccess(kube, names.router, signal),
    join.owner,
  )
  return { state: created }
}

/** The router's control port as the pod declares it (moved off a port the Service uses). */
export function routerControlPort(pod: V1Pod | undefined): number {
  const env = pod?.spec?.containers[0]?.env?.find((e) => e.name === AGENT_ENV.controlPort)
  const port = Number(env?.value)
  return Number.isInteger(port) && port > 0 ? port : AGENT_CONTROL_PORT
}

// Returns the stuntman's ClusterIP.
async function ensureStuntman(kube: Kube, join: JoinMeshGroup): Promise<string> {
  const { names, signal } = join
  const namespace = kube.namespace
  const body: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: names.stuntman,
      namespace,
      labels: { ...ktxLabels(undefined, 'stuntman'), [MESH_GROUP_LABEL]: names.service },
      annotations: sessionAnnotations(join.ownerName),
      ownerReferences: [join.owner],
    },
    spec: {
      type: 'ClusterIP',
      selector: { ...join.originalSelector },
      ports: (join.service.spec?.ports ?? [])
        .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
        .map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port,
          targetPort: p.targetPort ?? p.port,
          protocol: 'TCP',
        })),
    },
  }
  for (let round = 1; ; round++) {
    const state = await createOrJoin(
      () =>
        kube.call(
          { verb: 'create', resource: 'services', namespace },
          (o) => kube.core.createNamespacedService({ namespace, body }, o),
          signal,
        ),
      serviceAccess(kube, names.stuntman, signal),
      join.owner,
    )
    if (state !== 'terminating') {
      const stuntman = await serviceAccess(kube, names.stuntman, signal).read()
      const ip = stuntman?.spec?.clusterIP
      if (ip) return ip
    }
    if (round >= JOIN_ROUNDS) throw raceLost(names.service)
  }
}

// Creates the object, or, when it exists, adds `owner` to it. `terminating`: it is being deleted.
async function createOrJoin(
  create: () => Promise<unknown>,
  access: OwnedAccess<V1Pod | V1Service>,
  owner: V1OwnerReference,
): Promise<RouterState> {
  try {
    await create()
    return 'created'
  } catch (error) {
    if (!isConflict(error)) throw error
  }
  return (await addOwner(access, owner)) === 'added' ? 'joined' : 'terminating'
}

/**
 * Points the Service at the router, writing the mesh record (with `original`, the real pods'
 * selector) if it has none yet. One guarded write.
 * @throws ConflictError `KTX_SERVICE_LOCKED` when an exchange holds the Service.
 */
async function pointServiceAtRouter(
  kube: Kube,
  names: MeshGroupNames,
  original: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<void> {
  let exchangedBy: string | undefined
  const selector = routerSelector(names.service)
  const outcome = await guardedUpdate(
    () => findService(kube, names.service, signal),
    (ops) => patchService(kube, names.service, ops, signal),
    (service) => {
      const annotations = service.metadata?.annotations
      const lock = readLock(annotations)
      if (lock.state === 'valid') {
        exchangedBy = `${lock.value.owner} (session ${lock.value.session})`
        return undefined
      }
      const ops =
        readMeshRecord(annotations).state === 'valid'
          ? []
          : annotationOps(annotations, {
              [ANNOTATIONS.mesh]: formatRecord({
                router: names.router,
                stuntman: names.stuntman,
                selector: { ...original },
                since: new Date().toISOString(),
              }),
            })
      if (!sameLabels(service.spec?.selector, selector)) {
        ops.push({ op: 'replace', path: '/spec/selector', value: selector })
      }
      return ops
    },
  )
  if (exchangedBy !== undefined) throw exchangedError(names.service, exchangedBy)
  if (outcome === 'gone') {
    throw new KubeApiError('KTX_SERVICE_NOT_FOUND', `Service "${names.service}" was deleted while meshing it`)
  }
}

/** Puts the record's selector back and drops the record; returns that selector (undefined: none). */
async function restoreMeshedService(
  kube: Kube,
  service: string,
  signal: AbortSignal,
): Promise<Readonly<Record<string, string>> | undefined> {
  let original: Readonly<Record<string, string>> | undefined
  await guardedUpdate(
    () => findService(kube, service, signal),
    (ops) => patchService(kube, service, ops, signal),
    (found) => {
      const annotations = found.metadata?.annotations
      const record = readMeshRecord(annotations)
      if (record.state !== 'valid') return []
      original = record.value.selector
      const ops = annotationOps(annotations, { [ANNOTATIONS.mesh]: undefined })
      if (!sameLabels(found.spec?.selector, original)) {
        ops.push({ op: 'replace', path: '/spec/selector', value: { ...original } })
      }
      return ops
    },
  )
  return original
}

/** The error for exchanging or meshing a Service that an exchange session holds. */
export function exchangedError(service: string, holder: string): ConflictError {
  return new ConflictError(`Service "${service}" is exchanged by ${holder}`, {
    code: 'KTX_SERVICE_LOCKED',
    suggestions: [
      'Wait until that exchange ends, or ask its owner; `ktx recover` takes it back once that session is dead.',
    ],
  })
}

function raceLost(service: string): ConflictError {
  return new ConflictError(`The mesh router of Service "${service}" kept being replaced while joining`, {
    code: 'KTX_SERVICE_LOCKED',
    suggestions: ['Other developers are starting and ending meshes of it right now; run the command again.'],
  })
}

function isVanished(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'KTX_SHADOW_FAILED'
}

async function liveOwners(
  kube: Kube,
  owners: readonly V1OwnerReference[],
  signal: AbortSignal,
): Promise<string[]> {
  const leases = owners.filter((o) => o.kind === 'Lease').map((o) => o.name)
  const verdicts = await Promise.all(leases.map((name) => judgeLease(kube, name, signal)))
  return leases.filter((_, i) => verdicts[i]?.alive === true)
}

async function anyOwnerAlive(
  kube: Kube,
  owners: readonly V1OwnerReference[],
  signal: AbortSignal,
): Promise<boolean> {
  return (await liveOwners(kube, owners, signal)).length > 0
}

// Deletes unless the object changed since `resourceVersion` (someone joined): false then.
async function deleteUnchanged(
  kube: Kube,
  resource: 'pods' | 'services',
  name: string,
  resourceVersion: string | undefined,
  signal: AbortSignal,
): Promise<boolean> {
  const namespace = kube.namespace
  const body = resourceVersion ? { preconditions: { resourceVersion } } : {}
  try {
    await deleteIgnoringMissing(() =>
      resource === 'pods'
        ? kube.call(
            { verb: 'delete', resource, namespace, name },
            (o) => kube.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1, body }, o),
            signal,
          )
        : kube.call(
            { verb: 'delete', resource, namespace, name },
            (o) => kube.core.deleteNamespacedService({ name, namespace, body }, o),
            signal,
          ),
    )
    return true
  } catch (error) {
    if (isConflict(error)) return false
    throw error
  }
}

function podAccess(kube: Kube, name: string, signal: AbortSignal): OwnedAccess<V1Pod> {
  const namespace = kube.namespace
  return {
    read: () => readPod(kube, name, signal),
    patch: (ops) =>
      kube.call(
        { verb: 'patch', resource: 'pods', namespace, name },
        (o) => kube.core.patchNamespacedPod({ name, namespace, body: ops }, o),
        signal,
      ),
  }
}

function serviceAccess(kube: Kube, name: string, signal: AbortSignal): OwnedAccess<V1Service> {
  return {
    read: () => findService(kube, name, signal),
    patch: (ops) => patchService(kube, name, ops, signal),
  }
}
