/**
 * The contract between ktx and its in-cluster agent (`@ktx/shadow-image`): environment variable
 * names, ports, the SSH user, the open-failure description format and cluster labels. Both sides
 * import these from here, so they cannot drift. No Node APIs: the agent bundle pulls this file in.
 */

/** Environment variables the agent reads. */
export const AGENT_ENV = {
  /** The session's public key, OpenSSH `authorized_keys` form. The only key the agent accepts. */
  authorizedKey: 'KTX_AUTHORIZED_KEY',
  /** Port of the SSH server on the pod's loopback. */
  sshPort: 'KTX_SSH_PORT',
  /** Port of the `GET /healthz` readiness endpoint on all interfaces. */
  healthPort: 'KTX_HEALTH_PORT',
} as const

/** Default SSH port inside the pod (loopback only: reachable through a port-forward, not from pods). */
export const AGENT_SSH_PORT = 2222
/** Default health port inside the pod (the readinessProbe target). */
export const AGENT_HEALTH_PORT = 8081
/** Path of the readiness endpoint. */
export const AGENT_HEALTH_PATH = '/healthz'
/** The SSH user name ktx logs in as; the agent has no real users, this is only for the handshake. */
export const AGENT_SSH_USER = 'ktx'

/**
 * Labels on every cluster object ktx creates; `clean` and the no-leftovers checks select on them.
 */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  session: 'ktx.dev/session',
  role: 'ktx.dev/role',
} as const

/** The value of {@link LABELS.managedBy}. */
export const MANAGED_BY = 'ktx'

/** Annotations ktx sets. */
export const ANNOTATIONS = {
  /** `user@host` of the session that made the object. */
  owner: 'ktx.dev/owner',
  /**
   * On a user's Service (and, in scale mode, its workload) while a session redirects it: JSON
   * naming the session, its owner and Lease. Taken with a resourceVersion-guarded write.
   */
  lock: 'ktx.dev/lock',
  /** On a user's Service whose selector ktx switched: JSON `{session, selector}` to restore. */
  originalSelector: 'ktx.dev/original-selector',
  /** On a Deployment/StatefulSet ktx scaled to 0: JSON `{session, replicas}` to restore. */
  originalReplicas: 'ktx.dev/original-replicas',
} as const

/** The label an exchanged Service's selector points at: `ktx.dev/exchange=<session>`. */
export const EXCHANGE_LABEL = 'ktx.dev/exchange'

/** The label a preview Service selects its shadow pod by: `ktx.dev/preview=<session>`. */
export const PREVIEW_LABEL = 'ktx.dev/preview'

/** Label selector matching everything ktx manages. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`

/**
 * When the agent cannot open a `direct-tcpip` target it rejects the channel with a description that
 * starts with the Node error code (`ECONNREFUSED connect ECONNREFUSED 10.0.0.1:80`), so the client
 * can pick the right SOCKS5 reply. Returns `undefined` for a description without a code.
 */
export function errorCodeOfOpenFailure(description: string): string | undefined {
  const match = /^([A-Z][A-Z0-9_]+)\b/.exec(description)
  return match?.[1]
}

/** Formats an agent-side connect error as an open-failure description (see {@link errorCodeOfOpenFailure}). */
export function openFailureDescription(code: string | undefined, message: string): string {
  return code === undefined ? message : `${code} ${message}`
}
