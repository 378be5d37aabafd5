/**
 * The contract between ktx and its in-cluster agent (`@ktx/shadow-image`): environment variable
 * names, ports, the SSH user, the open-failure description format, cluster labels and the router's
 * control protocol. Both sides import these from here, so they cannot drift. No Node APIs: the agent
 * bundle pulls this file in.
 */

/** Environment variables the agent reads. */
export const AGENT_ENV = {
  /** The session's public key, OpenSSH `authorized_keys` form. The only key the agent accepts. */
  authorizedKey: 'KTX_AUTHORIZED_KEY',
  /** Port of the SSH server on the pod's loopback. */
  sshPort: 'KTX_SSH_PORT',
  /** Port of the direct data path's server on the pod's loopback (tunnel/direct-protocol.ts). */
  directPort: 'KTX_DIRECT_PORT',
  /** Port of the `GET /healthz` readiness endpoint on all interfaces. */
  healthPort: 'KTX_HEALTH_PORT',
  /** `shadow` (the default) or `router` (the header router of `ktx mesh`), see {@link AgentMode}. */
  mode: 'KTX_AGENT_MODE',
  /** Router mode: the ports to route, JSON from {@link encodeRouterPorts}. */
  routerPorts: 'KTX_ROUTER_PORTS',
  /** Router mode: port of the control endpoint on the pod's loopback. */
  controlPort: 'KTX_CONTROL_PORT',
} as const

/** What the agent does besides SSH: nothing more (`shadow`) or route by header (`router`). */
export type AgentMode = 'shadow' | 'router'
/** Every {@link AgentMode}; the first is the default. */
export const AGENT_MODES: readonly AgentMode[] = ['shadow', 'router']

/**
 * The agent image ktx uses unless told otherwise (`--image`, `KTX_IMAGE`, `ktx config set image`);
 * `ktx image build`/`push` make it, `packages/shadow-image/Dockerfile` is its published form.
 */
export const DEFAULT_SHADOW_IMAGE = 'ghcr.io/ktx-dev/ktx-shadow:0.1.0'

/** Default SSH port inside the pod (loopback only: reachable through a port-forward, not from pods). */
export const AGENT_SSH_PORT = 2222
/**
 * Default port of the direct data path inside the pod. Loopback only, like SSH; every connection
 * on it must be signed by the session key.
 */
export const AGENT_DIRECT_PORT = 2224
/** Default health port inside the pod (the readinessProbe target). */
export const AGENT_HEALTH_PORT = 8081
/**
 * Default port of the router's control endpoint. Loopback only, like SSH: reaching it needs a
 * port-forward (RBAC on `pods/portforward`) or the session's SSH connection, which is its
 * authentication.
 */
export const AGENT_CONTROL_PORT = 2223
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
  /** On a session's Lease: the verb that runs it (`connect`, `exchange`, `mesh`, `preview`), for `ktx status`. */
  verb: 'ktx.dev/verb',
  /**
   * On a user's Service (and, in scale mode, its workload) while a session redirects it: JSON
   * naming the session, its owner and Lease. Taken with a resourceVersion-guarded write.
   */
  lock: 'ktx.dev/lock',
  /** On a user's Service whose selector ktx switched: JSON `{session, selector}` to restore. */
  originalSelector: 'ktx.dev/original-selector',
  /** On a Deployment/StatefulSet ktx scaled to 0: JSON `{session, replicas}` to restore. */
  originalReplicas: 'ktx.dev/original-replicas',
  /**
   * On a user's Service while `ktx mesh` (auto mode) points it at the router: JSON
   * `{router, stuntman, selector, since}`. It names no session: the router is shared, and the
   * sessions meshing the Service are the Leases among the router pod's ownerReferences.
   */
  mesh: 'ktx.dev/mesh',
} as const

/** The label an exchanged Service's selector points at: `ktx.dev/exchange=<session>`. */
export const EXCHANGE_LABEL = 'ktx.dev/exchange'

/** The label a mesh session's shadow carries (`ktx.dev/mesh=<session>`); its mesh Service selects it. */
export const MESH_LABEL = 'ktx.dev/mesh'

/**
 * On the router pod and the stuntman Service of a meshed Service: `ktx.dev/mesh-group=<service>`.
 * The meshed Service selects the router by it (with `ktx.dev/role=router`).
 */
export const MESH_GROUP_LABEL = 'ktx.dev/mesh-group'
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

// ---------------------------------------------------------------------------------------------
// Router mode (`ktx mesh`): the ports it routes and its control protocol.
// ---------------------------------------------------------------------------------------------

/** A `host:port` pair (`[v6]:port` for IPv6 literals). */
export interface HostPort {
  readonly host: string
  readonly port: number
}

/** Parses `host:port` / `[v6]:port`; `undefined` when it is not one (no port, port out of range). */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(text)
  if (!match) return undefined
  const port = Number(match[3])
  if (port < 1 || port > 65_535) return undefined
  return { host: match[1] ?? match[2] ?? '', port }
}

/** One port the router listens on (all interfaces) and where unmatched traffic goes. */
export interface RouterPortSpec {
  readonly port: number
  /** `host:port` of the real pods, normally the Service's stand-in (`svc-ktx-stuntman.ns:80`). */
  readonly fallback: string
}

/** The value of {@link AGENT_ENV.routerPorts}. */
export function encodeRouterPorts(ports: readonly RouterPortSpec[]): string {
  return JSON.stringify(ports.map(({ port, fallback }) => ({ port, fallback })))
}

/** Reads {@link AGENT_ENV.routerPorts}; throws an Error saying what is wrong. */
export function parseRouterPorts(text: string): RouterPortSpec[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new Error('is not JSON; expected [{"port":80,"fallback":"host:80"}, …]')
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new Error('must be a non-empty JSON array of {"port", "fallback"}')
  const seen = new Set<number>()
  return value.map((entry: unknown, index): RouterPortSpec => {
    if (!isRecord(entry)) throw new Error(`entry ${index} is not an object`)
    const { port, fallback } = entry
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
      throw new Error(`entry ${index}: "port" must be a port number`)
    if (seen.has(port)) throw new Error(`entry ${index}: port ${port} is listed twice`)
    seen.add(port)
    if (typeof fallback !== 'string' || parseHostPort(fallback) === undefined)
      throw new Error(`entry ${index}: "fallback" must be "host:port"`)
    return { port, fallback }
  })
}

/**
 * One route: requests carrying header `header` with exactly `value` (the mark) go, on each router
 * port named in `targets`, to that `host:port` (the session's reverse-forward listener). The header
 * name matches case-insensitively; the value exactly.
 */
export interface RouterRoute {
  readonly session: string
  readonly header: string
  readonly value: string
  /** Router port (decimal string) → `host:port`. */
  readonly targets: Readonly<Record<string, string>>
}

/**
 * A control request, one JSON object per line. `add` takes the mark for `session` (replacing that
 * session's earlier targets for the same mark); the route lives as long as the control connection
 * that last added it. `remove` drops every route of `session`.
 */
export type RouterRequest =
  | ({ readonly op: 'add' } & RouterRoute)
  | { readonly op: 'remove'; readonly session: string }
  | { readonly op: 'list' }
  | { readonly op: 'ping' }

/**
 * Why the router refused a request: `mark-taken` (another session holds header+value; `session`
 * names it), `unknown-port` (a target names a port the router does not listen on), `bad-request`
 * (not a valid request line).
 */
export type RouterErrorCode = 'bad-request' | 'mark-taken' | 'unknown-port'

/** The one reply line to each request, in request order. */
export type RouterReply =
  | { readonly ok: true; readonly routes?: readonly RouterRoute[] }
  | {
      readonly ok: false
      readonly code: RouterErrorCode
      readonly message: string
      /** For `mark-taken`: the session that holds the mark. */
      readonly session?: string
    }

/** The longest control line either side accepts (a request with many ports is well below this). */
export const ROUTER_MAX_LINE = 64 * 1024

/** One protocol line (JSON and `\n`). */
export function encodeRouterLine(message: RouterRequest | RouterReply): string {
  return `${JSON.stringify(message)}\n`
}

/** A request line read: the request, or why it is not one (for a `bad-request` reply). */
export type ParsedRouterRequest =
  { readonly ok: true; readonly request: RouterRequest } | { readonly ok: false; readonly message: string }

/** Parses and validates one request line (without its newline). */
export function parseRouterRequest(line: string): ParsedRouterRequest {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return { ok: false, message: 'not a JSON object' }
  }
  if (!isRecord(value)) return { ok: false, message: 'not a JSON object' }
  switch (value.op) {
    case 'ping':
    case 'list':
      return { ok: true, request: { op: value.op } }
    case 'remove':
      return isSessionId(value.session)
        ? { ok: true, request: { op: 'remove', session: value.session } }
        : { ok: false, message: '"session" must be a non-empty string' }
    case 'add': {
      const route = routeProblem(value)
      return typeof route === 'string' ? { ok: false, message: route } : { ok: true, request: route }
    }
    default:
      return { ok: false, message: '"op" must be one of add, remove, list, ping' }
  }
}

/** Parses one reply line; `undefined` when the line is not a reply (a broken or foreign peer). */
export function parseRouterReply(line: string): RouterReply | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!isRecord(value)) return undefined
  if (value.ok === true) {
    if (value.routes === undefined) return { ok: true }
    if (!Array.isArray(value.routes)) return undefined
    const routes: RouterRoute[] = []
    for (const entry of value.routes as unknown[]) {
      const route = isRecord(entry) ? routeProblem(entry) : 'not an object'
      if (typeof route === 'string') return undefined
      const { op: _op, ...plain } = route
      routes.push(plain)
    }
    return { ok: true, routes }
  }
  if (value.ok !== false || typeof value.message !== 'string') return undefined
  if (value.code !== 'bad-request' && value.code !== 'mark-taken' && value.code !== 'unknown-port')
    return undefined
  return typeof value.session === 'string'
    ? { ok: false, code: value.code, message: value.message, session: value.session }
    : { ok: false, code: value.code, message: value.message }
}

/** An HTTP header name (an RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** A non-empty header value without control characters (tab aside), so no CR/LF smuggling. */
function isHeaderValue(text: string): boolean {
  if (text === '') return false
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return false
  }
  return true
}

function routeProblem(value: Record<string, unknown>): ({ op: 'add' } & RouterRoute) | string {
  const { session, header, value: mark, targets } = value
  if (!isSessionId(session)) return '"session" must be a non-empty string'
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) return '"header" must be an HTTP header name'
  // Parsers strip the whitespace around a header value, so a mark with any could never match.
  if (typeof mark !== 'string' || !isHeaderValue(mark) || mark.trim() !== mark)
    return '"value" must be a non-empty header value without control characters or outer spaces'
  if (!isRecord(targets) || Object.keys(targets).length === 0)
    return '"targets" must map router ports to "host:port"'
  const checked: Record<string, string> = {}
  for (const [port, target] of Object.entries(targets)) {
    if (!/^[1-9]\d{0,4}$/.test(port) || Number(port) > 65_535)
      return `"targets" key "${port}" is not a port number`
    if (typeof target !== 'string' || parseHostPort(target) === undefined)
      return `"targets.${port}" must be "host:port"`
    checked[port] = target
  }
  return { op: 'add', session, header, value: mark, targets: checked }
}

function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= 253
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
