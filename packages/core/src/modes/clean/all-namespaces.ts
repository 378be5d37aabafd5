/**
 * `cleanAllNamespaces()`: `ktx clean --all-namespaces`. Finds the namespaces holding anything of
 * ktx by cluster-wide lists (Leases and pods by the managed-by label, Services and workloads by
 * ktx's annotations, which a Service redirected by a session whose Lease and pod are gone still
 * carries), then runs {@link cleanCluster} in each. Each list may be refused on its own: the refusal
 * is reported by name and the namespaces the others found are still cleaned; when every list is
 * refused there is nothing to go on and it fails, saying to clean namespace by namespace.
 */
import { ANNOTATIONS, MANAGED_SELECTOR } from '../../contract.js'
import { PermissionError, isKtxError, messageOf } from '../../errors.js'
import { type Kube, createKube, isKube, kubeFromConfig } from '../../kube/client.js'
import { DEFAULTS } from '../../options.js'
import { type CleanClusterOptions, type CleanClusterReport, cleanCluster } from './cluster.js'

/** What {@link cleanAllNamespaces} found and did. */
export interface CleanAllNamespacesReport {
  readonly dryRun: boolean
  /** One report per namespace that holds ktx objects, by name. */
  readonly namespaces: readonly CleanClusterReport[]
  /** Namespaces whose clean failed (a refused list there, …), with why. */
  readonly failed: readonly { readonly namespace: string; readonly error: string }[]
  /** The cluster-wide lists that were refused: objects only they would have found are missed. */
  readonly refused: readonly string[]
}

// A cluster-wide list: what it names and how to read the namespaces off its items.
interface Finder {
  readonly resource: string
  readonly list: (kube: Kube, signal?: AbortSignal) => Promise<readonly string[]>
}

const KTX_ANNOTATIONS = [ANNOTATIONS.lock, ANNOTATIONS.originalSelector, ANNOTATIONS.originalReplicas]

interface Listed {
  readonly items: readonly {
    readonly metadata?: { readonly namespace?: string; readonly annotations?: Record<string, string> }
  }[]
}

const namespacesOf = (list: Listed, annotated = false): string[] =>
  list.items
    .filter((item) => !annotated || KTX_ANNOTATIONS.some((key) => item.metadata?.annotations?.[key]))
    .map((item) => item.metadata?.namespace ?? '')
    .filter((ns) => ns !== '')

const FINDERS: readonly Finder[] = [
  {
    resource: 'leases',
    list: async (kube, signal) =>
      namespacesOf(
        await kube.call(
          { verb: 'list', resource: 'leases' },
          (o) => kube.coordination.listLeaseForAllNamespaces({ labelSelector: MANAGED_SELECTOR }, o),
          signal,
        ),
      ),
  },
  {
    resource: 'pods',
    list: async (kube, signal) =>
      namespacesOf(
        await kube.call(
          { verb: 'list', resource: 'pods' },
          (o) => kube.core.listPodForAllNamespaces({ labelSelector: MANAGED_SELECTOR }, o),
          signal,
        ),
      ),
  },
  {
    resource: 'services',
    list: async (kube, signal) =>
      namespacesOf(
        await kube.call(
          { verb: 'list', resource: 'services' },
          (o) => kube.core.listServiceForAllNamespaces({}, o),
          signal,
        ),
        true,
      ),
  },
  {
    resource: 'deployments',
    list: async (kube, signal) =>
      namespacesOf(
        await kube.call(
          { verb: 'list', resource: 'deployments' },
          (o) => kube.apps.listDeploymentForAllNamespaces({}, o),
          signal,
        ),
        true,
      ),
  },
  {
    resource: 'statefulsets',
    list: async (kube, signal) =>
      namespacesOf(
        await kube.call(
          { verb: 'list', resource: 'statefulsets' },
          (o) => kube.apps.listStatefulSetForAllNamespaces({}, o),
          signal,
        ),
        true,
      ),
  },
]

/**
 * Reaps what dead sessions left in every namespace that holds ktx objects.
 * @throws PermissionError `KTX_KUBE_FORBIDDEN` when every cluster-wide list is refused; TunnelError
 *   / KubeApiError from a list that fails otherwise. A namespace whose clean fails is reported in
 *   `failed`, and the others are still cleaned.
 */
export async function cleanAllNamespaces(
  options: CleanClusterOptions = {},
): Promise<CleanAllNamespacesReport> {
  const kube = isKube(options.kube)
    ? options.kube
    : createKube({
        ...options.kube,
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.timeouts.kubeRequestMs,
      })
  const { signal } = options
  const found = new Set<string>()
  const refused: string[] = []
  for (const finder of FINDERS) {
    try {
      for (const ns of await finder.list(kube, signal)) found.add(ns)
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      if (!(error instanceof PermissionError)) throw error
      refused.push(`list ${finder.resource} (all namespaces)`)
    }
  }
  if (refused.length === FINDERS.length) {
    throw new PermissionError(
      'KTX_KUBE_FORBIDDEN',
      `Not allowed to list ktx's objects across namespaces: ${FINDERS.map((f) => f.resource).join(', ')} were all refused`,
      {
        verb: 'list',
        resource: 'leases',
        suggestions: [
          'Clean one namespace at a time: ktx clean -n <namespace>',
          'Or ask for a ClusterRole with "list" on leases, pods, services, deployments and statefulsets (docs/rbac.md).',
        ],
      },
    )
  }
  const namespaces: CleanClusterReport[] = []
  const failed: { namespace: string; error: string }[] = []
  for (const namespace of [...found].sort()) {
    try {
      namespaces.push(await cleanCluster({ ...options, kube: inNamespace(kube, namespace) }))
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      failed.push({
        namespace,
        error: isKtxError(error) ? `${error.code}: ${error.message}` : messageOf(error),
      })
    }
  }
  return { dryRun: options.dryRun ?? false, namespaces, failed, refused }
}

// The same client and credentials, pointed at another namespace.
function inNamespace(kube: Kube, namespace: string): Kube {
  if (kube.namespace === namespace) return kube
  return kubeFromConfig(
    { config: kube.config, context: kube.context, namespace, server: kube.server },
    kube.requestTimeoutMs,
  )
}
