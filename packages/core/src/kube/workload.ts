import type { V1Deployment, V1PodSpec, V1StatefulSet } from '@kubernetes/client-node'

import { KubeApiError, TimeoutError } from '../errors.js'
import type { Kube } from './client.js'
import type { PatchOp } from './json-patch.js'
import type { WorkloadRef } from './redirect-state.js'
import { waitForWatched } from './wait.js'
import type { WatchObjectsOptions } from './watch.js'

/** A Deployment or StatefulSet, reduced to what exchange needs. */
export interface Workload {
  readonly ref: WorkloadRef
  /** `spec.replicas` (Kubernetes defaults it to 1). */
  readonly replicas: number
  readonly templateLabels: Readonly<Record<string, string>>
  readonly podSpec: V1PodSpec | undefined
  readonly annotations: Readonly<Record<string, string>> | undefined
  readonly metadata: { readonly resourceVersion: string | undefined }
  /** Tells a workload deleted and created again under the same name from the one ktx locked. */
  readonly uid: string | undefined
  /** A deletion was requested (the object goes once its finalizers are done). */
  readonly deleting: boolean
}

/** A Deployment or StatefulSet as the API returns it. */
export type AppsObject = V1Deployment | V1StatefulSet

/** `deployment/web` style, for messages. */
export function describeWorkload(ref: WorkloadRef): string {
  return `${ref.kind.toLowerCase()}/${ref.name}`
}

/**
 * Reads one workload.
 * @throws KubeApiError `KTX_WORKLOAD_NOT_FOUND`, or the read's KtxError.
 */
export async function readWorkload(kube: Kube, ref: WorkloadRef, signal?: AbortSignal): Promise<Workload> {
  const namespace = kube.namespace
  const { name } = ref
  try {
    const object: AppsObject =
      ref.kind === 'Deployment'
        ? await kube.call(
            { verb: 'get', resource: 'deployments', namespace, name },
            (o) => kube.apps.readNamespacedDeployment({ name, namespace }, o),
            signal,
          )
        : await kube.call(
            { verb: 'get', resource: 'statefulsets', namespace, name },
            (o) => kube.apps.readNamespacedStatefulSet({ name, namespace }, o),
            signal,
          )
    return toWorkload(ref.kind, object)
  } catch (error) {
    if ((error as { status?: unknown }).status !== 404) throw error
    throw new KubeApiError(
      'KTX_WORKLOAD_NOT_FOUND',
      `${describeWorkload(ref)} not found in namespace "${namespace}"`,
      {
        cause: error,
        status: 404,
        suggestions: [`List them: kubectl get deployments,statefulsets -n ${namespace}`],
      },
    )
  }
}

/** Every Deployment and StatefulSet in the namespace. */
export async function listWorkloads(kube: Kube, signal?: AbortSignal): Promise<Workload[]> {
  const namespace = kube.namespace
  const [deployments, statefulSets] = await Promise.all([
    kube.call(
      { verb: 'list', resource: 'deployments', namespace },
      (o) => kube.apps.listNamespacedDeployment({ namespace }, o),
      signal,
    ),
    kube.call(
      { verb: 'list', resource: 'statefulsets', namespace },
      (o) => kube.apps.listNamespacedStatefulSet({ namespace }, o),
      signal,
    ),
  ])
  return [
    ...deployments.items.map((d) => toWorkload('Deployment', d)),
    ...statefulSets.items.map((s) => toWorkload('StatefulSet', s)),
  ]
}

/** Applies a JSON patch to a workload. */
export async function patchWorkload(
  kube: Kube,
  ref: WorkloadRef,
  ops: readonly PatchOp[],
  signal?: AbortSignal,
): Promise<void> {
  const namespace = kube.namespace
  const { name } = ref
  const body = [...ops]
  if (ref.kind === 'Deployment') {
    await kube.call(
      { verb: 'patch', resource: 'deployments', namespace, name },
      (o) => kube.apps.patchNamespacedDeployment({ name, namespace, body }, o),
      signal,
    )
  } else {
    await kube.call(
      { verb: 'patch', resource: 'statefulsets', namespace, name },
      (o) => kube.apps.patchNamespacedStatefulSet({ name, namespace, body }, o),
      signal,
    )
  }
}

/**
 * Watches the workload until its controller has seen the latest spec and `replicas` pods are
 * Ready (and, with 0, until none are left).
 * @throws TimeoutError `KTX_WORKLOAD_NOT_READY` (option `timeouts.recoverWaitMs`) or `signal.reason`.
 */
export async function waitWorkloadReady(
  kube: Kube,
  ref: WorkloadRef,
  options: { readonly replicas: number; readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<void> {
  let latest: AppsObject | undefined
  await waitForWatched<AppsObject>(kube, {
    watch: oneWorkloadCollection(kube, ref),
    reset: () => (latest = undefined),
    reduce: (type, object) => {
      latest = type === 'DELETED' ? undefined : object
    },
    done: () => latest !== undefined && isSettled(latest, options.replicas),
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onTimeout: () =>
      new TimeoutError(
        'KTX_WORKLOAD_NOT_READY',
        `${describeWorkload(ref)} did not get ${options.replicas} Ready replicas within ${Math.round(options.timeoutMs / 1000)}s (ready: ${latest?.status?.readyReplicas ?? 0})`,
        {
          option: 'timeouts.recoverWaitMs',
          timeoutMs: options.timeoutMs,
          suggestions: [
            'Raise the limit with --recoverWaitTime <seconds>.',
            `Look at it: kubectl rollout status -n ${kube.namespace} ${describeWorkload(ref)}`,
          ],
        },
      ),
  })
}

// The controller acted on the newest spec and the pod counts match it.
function isSettled(object: AppsObject, replicas: number): boolean {
  const status = object.status
  const observed = (status?.observedGeneration ?? 0) >= (object.metadata?.generation ?? 0)
  const ready = status?.readyReplicas ?? 0
  const current = status?.replicas ?? 0
  return observed && ready === replicas && current === replicas
}

/** What to watch for one workload: its collection, narrowed to its name. */
export function oneWorkloadCollection(
  kube: Kube,
  ref: WorkloadRef,
): Pick<WatchObjectsOptions<AppsObject>, 'path' | 'resource' | 'fieldSelector' | 'list'> {
  const namespace = kube.namespace
  const plural = ref.kind === 'Deployment' ? 'deployments' : 'statefulsets'
  const fieldSelector = `metadata.name=${ref.name}`
  return {
    path: `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${plural}`,
    resource: plural,
    fieldSelector,
    list: (signal) =>
      ref.kind === 'Deployment'
        ? kube.call(
            { verb: 'list', resource: plural, namespace },
            (o) => kube.apps.listNamespacedDeployment({ namespace, fieldSelector }, o),
            signal,
          )
        : kube.call(
            { verb: 'list', resource: plural, namespace },
            (o) => kube.apps.listNamespacedStatefulSet({ namespace, fieldSelector }, o),
            signal,
          ),
  }
}

/** The exchange view of a Deployment or StatefulSet as read or watched. */
export function toWorkload(kind: WorkloadRef['kind'], object: AppsObject): Workload {
  return {
    ref: { kind, name: object.metadata?.name ?? '' },
    replicas: object.spec?.replicas ?? 1,
    templateLabels: object.spec?.template.metadata?.labels ?? {},
    podSpec: object.spec?.template.spec,
    annotations: object.metadata?.annotations,
    metadata: { resourceVersion: object.metadata?.resourceVersion },
    uid: object.metadata?.uid,
    deleting: object.metadata?.deletionTimestamp !== undefined,
  }
}
