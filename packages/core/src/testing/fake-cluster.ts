import {
  ApiException,
  V1MicroTime,
  type V1Deployment,
  type V1Lease,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node'

import type { Kube } from '../kube/client.js'
import { toKubeError } from '../kube/errors.js'
import type { PatchOp } from '../kube/json-patch.js'
import { fakeKube } from './fake-kube.js'

/** What each kind of object stored is. */
interface Kinds {
  readonly services: V1Service
  readonly deployments: V1Deployment
  readonly leases: V1Lease
  readonly pods: V1Pod
}
type Kind = keyof Kinds
type Stored = Kinds[Kind]

/** A hook run just before a call reaches the store (to interleave a rival writer exactly there). */
export type CallHook = (cluster: FakeCluster) => void | Promise<void>

/**
 * One namespace of an API server, in memory, for unit tests of code that races other writers:
 * Services, Deployments, Leases and Pods with resourceVersions, JSON patches applied the way the
 * API server does (a stale `resourceVersion` in the patch is 409 Conflict), label selectors, and
 * hooks that run right before the n-th call of a method, where a test makes a rival session act.
 * Never the proof that a verb works against a cluster; the e2e suites are.
 */
export class FakeCluster {
  readonly #objects: Record<Kind, Map<string, Stored>> = {
    services: new Map(),
    deployments: new Map(),
    leases: new Map(),
    pods: new Map(),
  }
  readonly #hooks = new Map<string, { remaining: number; hook: CallHook }[]>()
  #version = 100
  /** Every call made, as `method name` (e.g. `patchNamespacedService web`). */
  readonly calls: string[] = []

  /** Stores an object (replacing one of that name), giving it a new resourceVersion. */
  put(kind: Kind, object: Stored): void {
    const name = object.metadata?.name ?? ''
    const copy = structuredClone(object)
    copy.metadata = { ...copy.metadata, name, namespace: 'ns', resourceVersion: this.#nextVersion() }
    this.#objects[kind].set(name, copy)
  }

  /** A copy of a stored object, or undefined. */
  get<K extends Kind>(kind: K, name: string): Kinds[K] | undefined {
    const found = this.#objects[kind].get(name)
    return found === undefined ? undefined : (structuredClone(found) as Kinds[K])
  }

  /** Changes a stored object in place (a rival writer), bumping its resourceVersion. */
  edit<K extends Kind>(kind: K, name: string, change: (object: Kinds[K]) => void): void {
    const object = this.get(kind, name)
    if (!object) throw new Error(`fake cluster: no ${kind}/${name} to edit`)
    change(object)
    this.put(kind, object)
  }

  delete(kind: Kind, name: string): void {
    this.#objects[kind].delete(name)
  }

  /** A session Lease of `durationSeconds`, last renewed `renewedSecondsAgo` ago. */
  putLease(session: string, renewedSecondsAgo: number, durationSeconds = 10): void {
    this.put('leases', {
      metadata: {
        name: `ktx-${session}`,
        labels: {
          'app.kubernetes.io/managed-by': 'ktx',
          'ktx.dev/session': session,
          'ktx.dev/role': 'session',
        },
      },
      spec: {
        leaseDurationSeconds: durationSeconds,
        renewTime: new V1MicroTime(Date.now() - renewedSecondsAgo * 1000),
      },
    })
  }

  /** A session's pod, labelled the way ktx labels its shadows. */
  putPod(session: string, name = `ktx-shadow-${session}`): void {
    this.put('pods', {
      metadata: {
        name,
        labels: {
          'app.kubernetes.io/managed-by': 'ktx',
          'ktx.dev/session': session,
          'ktx.dev/role': 'shadow',
        },
      },
    })
  }

  /** Runs `hook` right before the `nth` (1-based, counted from now) call of `method`. */
  before(method: string, hook: CallHook, nth = 1): void {
    const list = this.#hooks.get(method) ?? []
    list.push({ remaining: nth, hook })
    this.#hooks.set(method, list)
  }

  /** A {@link Kube} on this store. */
  kube(): Kube {
    const on = <A extends object, R>(method: string, fn: (args: A) => R) => {
      return async (args: A): Promise<Awaited<R>> => {
        const { name } = args as { name?: string }
        this.calls.push(name === undefined ? method : `${method} ${name}`)
        await this.#runHooks(method)
        return await fn(args)
      }
    }
    const read = (kind: Kind) => (a: { name: string }) => this.get(kind, a.name) ?? notFound(kind)
    const list = (kind: Kind) => (a: { labelSelector?: string; fieldSelector?: string }) => ({
      items: [...this.#objects[kind].values()]
        .filter((o) => matches(a.labelSelector, o.metadata?.labels))
        .filter(
          (o) => a.fieldSelector === undefined || a.fieldSelector === `metadata.name=${o.metadata?.name}`,
        )
        .map((o) => structuredClone(o)),
    })
    const patch = (kind: Kind) => (a: { name: string; body: PatchOp[] }) => this.#patch(kind, a.name, a.body)
    const remove = (kind: Kind) => (a: { name: string }) => {
      if (!this.#objects[kind].delete(a.name)) notFound(kind)
      return {}
    }
    const withDate = <T>(data: T) => ({ data, headers: { date: new Date().toUTCString() } })
    const core = {
      readNamespacedService: on('readNamespacedService', read('services')),
      listNamespacedService: on('listNamespacedService', list('services')),
      patchNamespacedService: on('patchNamespacedService', patch('services')),
      deleteNamespacedService: on('deleteNamespacedService', remove('services')),
      readNamespacedPod: on('readNamespacedPod', read('pods')),
      listNamespacedPod: on('listNamespacedPod', list('pods')),
      deleteNamespacedPod: on('deleteNamespacedPod', remove('pods')),
    }
    const apps = {
      readNamespacedDeployment: on('readNamespacedDeployment', read('deployments')),
      listNamespacedDeployment: on('listNamespacedDeployment', list('deployments')),
      patchNamespacedDeployment: on('patchNamespacedDeployment', patch('deployments')),
      listNamespacedStatefulSet: on('listNamespacedStatefulSet', () => ({ items: [] })),
      readNamespacedStatefulSet: on('readNamespacedStatefulSet', () => notFound('statefulsets')),
    }
    const coordination = {
      readNamespacedLease: on('readNamespacedLease', read('leases')),
      readNamespacedLeaseWithHttpInfo: on('readNamespacedLeaseWithHttpInfo', (a: { name: string }) =>
        withDate(read('leases')(a)),
      ),
      listNamespacedLease: on('listNamespacedLease', list('leases')),
      listNamespacedLeaseWithHttpInfo: on(
        'listNamespacedLeaseWithHttpInfo',
        (a: { labelSelector?: string }) => withDate(list('leases')(a)),
      ),
      deleteNamespacedLease: on('deleteNamespacedLease', remove('leases')),
    }
    return fakeKube({ core, apps, coordination })
  }

  async #runHooks(method: string): Promise<void> {
    const list = this.#hooks.get(method) ?? []
    for (const entry of [...list]) {
      entry.remaining -= 1
      if (entry.remaining > 0) continue
      list.splice(list.indexOf(entry), 1)
      await entry.hook(this)
    }
  }

  #patch(kind: Kind, name: string, ops: readonly PatchOp[]): Stored {
    const stored = this.#objects[kind].get(name) ?? notFound(kind)
    const next = applyPatch(stored, ops)
    if (next.metadata?.resourceVersion !== stored.metadata?.resourceVersion) {
      throw toKubeError(new ApiException(409, 'Conflict', '{"reason":"Conflict"}', {}), {
        verb: 'patch',
        resource: kind,
        server: 'fake',
      })
    }
    next.metadata = { ...next.metadata, resourceVersion: this.#nextVersion() }
    this.#objects[kind].set(name, next)
    return structuredClone(next)
  }

  #nextVersion(): string {
    return String(this.#version++)
  }
}

function notFound(resource: string): never {
  throw toKubeError(new ApiException(404, `${resource} not found`, '{}', {}), {
    verb: 'get',
    resource,
    server: 'fake',
  })
}

// `a=b,c=d` only (what ktx sends).
function matches(
  selector: string | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (selector === undefined || selector === '') return true
  return selector.split(',').every((term) => {
    const [key = '', value] = term.split('=')
    return labels?.[key] === value
  })
}

/** RFC 6902 add/replace/remove on a copy (what ktx sends). */
export function applyPatch<T>(object: T, ops: readonly PatchOp[]): T {
  const root = structuredClone(object) as Record<string, unknown>
  for (const op of ops) {
    const keys = op.path
      .split('/')
      .slice(1)
      .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'))
    const last = keys.pop() ?? ''
    let parent = root
    for (const key of keys) {
      const child = parent[key]
      if (typeof child !== 'object' || child === null) throw new Error(`patch: ${op.path} has no parent`)
      parent = child as Record<string, unknown>
    }
    if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`remove: ${op.path} does not exist`)
      Reflect.deleteProperty(parent, last)
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`replace: ${op.path} does not exist`)
      parent[last] = structuredClone(op.value)
    }
  }
  return root as T
}
