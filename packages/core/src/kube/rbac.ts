/**
 * The least Kubernetes rights each ktx verb needs, as data: one table that renders the Roles in
 * `docs/rbac/`, the page `docs/rbac.md`, and the Roles the e2e suites bind their ServiceAccounts
 * to, so the three cannot drift apart. Each rule says why it is there; what a verb does without
 * an optional (cluster-wide) rule is said next to it.
 */

/** A profile: one verb, or one mode of a verb where the modes differ in what they touch. */
export type RbacProfileName =
  | 'connect-socks'
  | 'connect-tun'
  | 'exchange-selector'
  | 'exchange-scale'
  | 'mesh'
  | 'preview'
  | 'clean'
  | 'recover'
  | 'status'

/** One RBAC rule: the verbs on one resource of one API group. */
export interface RbacRule {
  /** `''` is the core group. */
  readonly apiGroup: string
  readonly resource: string
  readonly verbs: readonly string[]
  /** Why ktx needs it. */
  readonly why: string
}

/** A rule a verb can do without, and what it loses then. */
export interface OptionalRbacRule extends RbacRule {
  /** Cluster-wide (a ClusterRole) or in another namespace than the session's. */
  readonly scope: 'cluster' | `namespace ${string}`
  readonly without: string
}

export interface RbacProfile {
  readonly name: RbacProfileName
  /** The command line the profile covers. */
  readonly command: string
  /** Rules in the session's namespace; without any of them the verb fails with KTX_KUBE_FORBIDDEN. */
  readonly rules: readonly RbacRule[]
  readonly optional: readonly OptionalRbacRule[]
}

const LEASES = 'coordination.k8s.io'
const DISCOVERY = 'discovery.k8s.io'
const APPS = 'apps'

// What every session with a shadow pod does: hold a renewed Lease, run the pod, port-forward to it.
const SESSION: readonly RbacRule[] = [
  {
    apiGroup: LEASES,
    resource: 'leases',
    verbs: ['create', 'get', 'update', 'delete'],
    why: 'the session Lease: created, renewed (get + update), deleted at the end',
  },
  {
    apiGroup: '',
    resource: 'pods',
    verbs: ['create', 'get', 'list', 'watch', 'delete'],
    why: 'the shadow pod: created, watched until Ready, deleted and waited for at the end',
  },
  {
    apiGroup: '',
    resource: 'pods/portforward',
    verbs: ['create', 'get'],
    why: "the port-forwards to the agent (its SSH port, and one per connection to its direct-path port): WebSocket upgrades (GETs), which v1.33 authorizes as get; create is what kubectl's SPDY port-forward needs and what an API server may check instead",
  },
]

// A verb that may take over what a dead session left finds that session's objects by label.
const LEASES_LIST: RbacRule = {
  apiGroup: LEASES,
  resource: 'leases',
  verbs: ['list'],
  why: "finding a dead session's Lease by label to delete it with its objects",
}

const ENDPOINTS: RbacRule = {
  apiGroup: DISCOVERY,
  resource: 'endpointslices',
  verbs: ['list', 'watch'],
  why: "watching the Service's endpoints switch over (readiness is observed)",
}

// Putting back what dead sessions left: Services, workloads scaled to 0, mesh routers.
const REAP: readonly RbacRule[] = [
  {
    apiGroup: LEASES,
    resource: 'leases',
    verbs: ['get', 'list', 'delete'],
    why: 'judging each session by its Lease (re-read right before acting) and deleting dead ones',
  },
  {
    apiGroup: '',
    resource: 'pods',
    verbs: ['get', 'list', 'delete'],
    why: "deleting dead sessions' shadow and router pods and waiting until they are gone",
  },
  {
    apiGroup: '',
    resource: 'services',
    verbs: ['get', 'list', 'patch', 'delete'],
    why: "putting back a redirected Service's selector; deleting a dead preview's Service",
  },
  {
    apiGroup: APPS,
    resource: 'deployments',
    verbs: ['get', 'list', 'watch', 'patch'],
    why: 'scaling back a workload scale mode left at 0, and waiting until it is Ready',
  },
  {
    apiGroup: APPS,
    resource: 'statefulsets',
    verbs: ['get', 'list', 'watch', 'patch'],
    why: 'as for deployments',
  },
]

const CLUSTER_NETWORK: readonly OptionalRbacRule[] = [
  {
    apiGroup: 'networking.k8s.io',
    resource: 'servicecidrs',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the Service range, from the authoritative source',
    without: "the range comes from the API server's answer to a dry-run Service (needs services create)",
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the pod ranges (spec.podCIDRs) and the node addresses that are never routed',
    without:
      "pod ranges are guessed from a sample of the namespace's pod IPs (/16 around each); pass --includeIps to be exact",
  },
  {
    apiGroup: '',
    resource: 'pods',
    verbs: ['list'],
    scope: 'cluster',
    why: "pod IPs outside the nodes' podCIDRs, and hostNetwork pods (never routed)",
    without: "only the session namespace's pods are sampled",
  },
  {
    apiGroup: '',
    resource: 'namespaces',
    verbs: ['list'],
    scope: 'cluster',
    why: 'the local DNS answers `svc.<namespace>` for every namespace',
    without:
      'short names `svc.<ns>` resolve only for the namespaces given with --namespace (full names always do)',
  },
  {
    apiGroup: '',
    resource: 'services',
    verbs: ['get'],
    scope: 'namespace kube-system',
    why: 'the cluster DNS Service (kube-dns) the local DNS forwards cluster names to',
    without: 'the local DNS has no cluster DNS to forward cluster names to: use --dnsMode hosts or none',
  },
  {
    apiGroup: '',
    resource: 'services',
    verbs: ['get'],
    scope: 'namespace default',
    why: 'the ClusterIP of default/kubernetes, kept off the routes',
    without:
      "that address is reached through the tunnel like any ClusterIP; the readiness probe, without the cluster DNS either, GETs the shadow pod's own health endpoint",
  },
]

/** Every profile, in the order the docs list them. */
export const RBAC_PROFILES: readonly RbacProfile[] = [
  {
    name: 'connect-socks',
    command: 'ktx connect --mode socks',
    rules: SESSION,
    optional: [],
  },
  {
    name: 'connect-tun',
    command: 'ktx connect (--mode tun)',
    rules: [
      ...SESSION,
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['create'],
        why: "a dry-run Service with an out-of-range ClusterIP (nothing is created): the API server's answer names the Service range",
      },
    ],
    optional: [
      ...CLUSTER_NETWORK,
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['list', 'watch'],
        scope: 'namespace <each of --namespace>',
        why: '--dnsMode hosts: the hosts-file block of those Services, kept current',
        without: '--dnsMode hosts fails with KTX_KUBE_FORBIDDEN; localDNS needs neither',
      },
      {
        apiGroup: DISCOVERY,
        resource: 'endpointslices',
        verbs: ['list', 'watch'],
        scope: 'namespace <each of --namespace>',
        why: '--dnsMode hosts: headless Services by their ready endpoint IPs',
        without: '--dnsMode hosts fails with KTX_KUBE_FORBIDDEN',
      },
    ],
  },
  {
    name: 'exchange-selector',
    command: 'ktx exchange <svc> --mode selector',
    rules: [
      ...SESSION,
      LEASES_LIST,
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['get', 'list', 'watch', 'patch'],
        why: 'the lock and original-selector annotations, the selector swap, and the watch that re-points a re-applied Service',
      },
      ENDPOINTS,
      {
        apiGroup: APPS,
        resource: 'deployments',
        verbs: ['get', 'list'],
        why: "the workload behind the Service: the shadow copies its pod template's ports",
      },
      { apiGroup: APPS, resource: 'statefulsets', verbs: ['get', 'list'], why: 'as for deployments' },
    ],
    optional: [],
  },
  {
    name: 'exchange-scale',
    command: 'ktx exchange <svc> --mode scale',
    rules: [
      ...SESSION,
      LEASES_LIST,
      {
        apiGroup: '',
        resource: 'pods',
        verbs: ['patch'],
        why: "the shadow takes the workload's labels once it is Ready",
      },
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['get', 'list', 'watch', 'patch'],
        why: 'the lock annotation on the Service, and its watch',
      },
      ENDPOINTS,
      {
        apiGroup: APPS,
        resource: 'deployments',
        verbs: ['get', 'list', 'watch', 'patch'],
        why: 'scaling the workload to 0 and back (its replicas saved in an annotation), waiting until Ready',
      },
      {
        apiGroup: APPS,
        resource: 'statefulsets',
        verbs: ['get', 'list', 'watch', 'patch'],
        why: 'as for deployments',
      },
    ],
    optional: [],
  },
  {
    name: 'mesh',
    command: 'ktx mesh <svc> (--mode auto | manual)',
    rules: [
      ...SESSION,
      {
        apiGroup: '',
        resource: 'pods',
        verbs: ['patch'],
        why: "the router pod's owner list: every session meshing the Service is an owner",
      },
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
        why: 'the Service pointed at the router (record in an annotation), and the stand-in Service for the real pods',
      },
      ENDPOINTS,
    ],
    optional: [],
  },
  {
    name: 'preview',
    command: 'ktx preview <name>',
    rules: [
      ...SESSION,
      LEASES_LIST,
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['create', 'get', 'list', 'delete'],
        why: "the new Service (owned by the Lease); a dead preview's Service of that name is taken over",
      },
      ENDPOINTS,
    ],
    optional: [],
  },
  {
    name: 'clean',
    command: 'ktx clean',
    rules: REAP,
    optional: [
      {
        apiGroup: LEASES,
        resource: 'leases',
        verbs: ['list'],
        scope: 'cluster',
        why: '--all-namespaces: finding the namespaces that hold ktx sessions',
        without:
          '--all-namespaces reports which lists were refused; `ktx clean -n <ns>` still works per namespace',
      },
      {
        apiGroup: '',
        resource: 'pods',
        verbs: ['list'],
        scope: 'cluster',
        why: '--all-namespaces: shadow pods whose Lease is gone',
        without: 'as for leases',
      },
      {
        apiGroup: '',
        resource: 'services',
        verbs: ['list'],
        scope: 'cluster',
        why: '--all-namespaces: Services still redirected by a session whose Lease and pod are gone',
        without: 'as for leases',
      },
      {
        apiGroup: APPS,
        resource: 'deployments',
        verbs: ['list'],
        scope: 'cluster',
        why: '--all-namespaces: workloads scale mode left at 0',
        without: 'as for leases',
      },
      {
        apiGroup: APPS,
        resource: 'statefulsets',
        verbs: ['list'],
        scope: 'cluster',
        why: '--all-namespaces: as for deployments',
        without: 'as for leases',
      },
    ],
  },
  {
    name: 'recover',
    command: 'ktx recover <svc>',
    rules: REAP,
    optional: [],
  },
  {
    name: 'status',
    command: 'ktx status',
    rules: [
      {
        apiGroup: LEASES,
        resource: 'leases',
        verbs: ['list'],
        why: 'the sessions and whether each is alive',
      },
      { apiGroup: '', resource: 'pods', verbs: ['list'], why: 'the pods each session runs' },
      { apiGroup: '', resource: 'services', verbs: ['list'], why: 'the Services each session holds' },
    ],
    optional: [],
  },
]

/** The profile called `name`. */
export function rbacProfile(name: RbacProfileName): RbacProfile {
  const profile = RBAC_PROFILES.find((p) => p.name === name)
  if (profile === undefined) throw new Error(`no RBAC profile ${name}`)
  return profile
}
