/**
 * The ktx error taxonomy. Every failure core reports is a {@link KtxError} with a stable `code`, a
 * `category` (which decides the CLI exit code) and suggestions that tell the user what to do next.
 * Third-party errors are wrapped at the boundary module and kept as `cause`.
 */

const BRAND = Symbol.for('ktx.error')

/** Broad failure classes; each maps to one process exit code in {@link exitCodeFor}. */
export type ErrorCategory =
  'usage' | 'config' | 'permission' | 'conflict' | 'cluster' | 'network' | 'host' | 'cleanup' | 'internal'

/** Every code core can throw. `KTX_<AREA>_<PROBLEM>`. */
export type KtxErrorCode =
  | 'KTX_OPTION_INVALID'
  | 'KTX_KUBECONFIG_INVALID'
  | 'KTX_KUBE_CONTEXT_NOT_FOUND'
  | 'KTX_KUBE_NAMESPACE_NOT_FOUND'
  | 'KTX_KUBE_FORBIDDEN'
  | 'KTX_KUBE_UNAUTHORIZED'
  | 'KTX_KUBE_UNREACHABLE'
  | 'KTX_KUBE_CONFLICT'
  | 'KTX_KUBE_API'
  | 'KTX_SHADOW_IMAGE_PULL'
  | 'KTX_SHADOW_CRASHED'
  | 'KTX_SHADOW_FAILED'
  | 'KTX_SHADOW_NOT_READY'
  | 'KTX_PORT_FORWARD_FAILED'
  | 'KTX_PORT_FORWARD_LOST'
  | 'KTX_SSH_HANDSHAKE'
  | 'KTX_SSH_LOST'
  | 'KTX_TUNNEL_LOST'
  | 'KTX_LEASE_LOST'
  | 'KTX_LISTEN_FAILED'
  | 'KTX_TIMEOUT'
  | 'KTX_CLEANUP_INCOMPLETE'
  | 'KTX_COMMAND_FAILED'
  | 'KTX_COMMAND_NOT_FOUND'
  | 'KTX_TUN_REQUIRES_ELEVATION'
  | 'KTX_TUN_NAME_TAKEN'
  | 'KTX_TUN_NOT_READY'
  | 'KTX_TUN2SOCKS_NOT_FOUND'
  | 'KTX_TUN2SOCKS_VERSION'
  | 'KTX_TUN2SOCKS_EXITED'
  | 'KTX_ROUTE_CONFLICT'
  | 'KTX_CLUSTER_CIDR_UNKNOWN'
  | 'KTX_DNS_UPSTREAM_UNKNOWN'
  | 'KTX_DNS_PROBE_FAILED'
  | 'KTX_TUNNEL_PROBE_FAILED'
  | 'KTX_DIAL_FAILED'
  | 'KTX_DNS_NO_ANSWER'
  | 'KTX_WATCH_FAILED'
  | 'KTX_JOURNAL_INVALID'
  | 'KTX_JOURNAL_FAILED'
  | 'KTX_JOURNAL_UNTRUSTED'
  | 'KTX_FILE_LOCKED'
  | 'KTX_TUN2SOCKS_UNTRUSTED'
  | 'KTX_PLATFORM_UNSUPPORTED'
  | 'KTX_SERVICE_NOT_FOUND'
  | 'KTX_SERVICE_NO_SELECTOR'
  | 'KTX_WORKLOAD_NOT_FOUND'
  | 'KTX_TARGET_AMBIGUOUS'
  | 'KTX_EXPOSE_INVALID'
  | 'KTX_SERVICE_LOCKED'
  | 'KTX_SERVICE_EXISTS'
  | 'KTX_SESSION_ALIVE'
  | 'KTX_SERVICE_LOST'
  | 'KTX_WORKLOAD_LOST'
  | 'KTX_ENDPOINTS_NOT_READY'
  | 'KTX_WORKLOAD_NOT_READY'
  | 'KTX_SERVICE_MESHED'
  | 'KTX_MESH_MARK_TAKEN'
  | 'KTX_ROUTER_REFUSED'
  | 'KTX_ROUTER_CONTROL_LOST'
  | 'KTX_IMAGE_BUNDLE_INVALID'
  | 'KTX_IMAGE_PUSH_TOOL_MISSING'
  | 'KTX_CONFIG_INVALID'

/** Fields every ktx error accepts. */
export interface KtxErrorOptions {
  readonly suggestions?: readonly string[]
  readonly cause?: unknown
  /** Extra machine-readable facts (rendered by `--json`). */
  readonly data?: Readonly<Record<string, unknown>>
}

/** Base class of every error core throws on purpose. Check with {@link isKtxError}, not `instanceof`. */
export class KtxError extends Error {
  readonly code: KtxErrorCode
  readonly category: ErrorCategory
  readonly suggestions: readonly string[]
  readonly data: Readonly<Record<string, unknown>>
  readonly [BRAND] = true

  constructor(code: KtxErrorCode, category: ErrorCategory, message: string, options: KtxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.category = category
    this.suggestions = options.suggestions ?? []
    this.data = options.data ?? {}
  }
}

/** A bad option or flag value. Exit 2. */
export class UsageError extends KtxError {
  constructor(
    message: string,
    options: KtxErrorOptions & {
      code?: 'KTX_OPTION_INVALID' | 'KTX_EXPOSE_INVALID' | 'KTX_TARGET_AMBIGUOUS'
    } = {},
  ) {
    super(options.code ?? 'KTX_OPTION_INVALID', 'usage', message, options)
  }
}

/** The kubeconfig, context or namespace cannot be used as given. Exit 3. */
export class ConfigError extends KtxError {
  constructor(
    code: Extract<KtxErrorCode, `KTX_KUBE${string}`> | 'KTX_CONFIG_INVALID',
    message: string,
    options: KtxErrorOptions = {},
  ) {
    super(code, 'config', message, options)
  }
}

/** The cluster (or this machine, for TUN mode) refused an action for lack of rights. Exit 4. */
export class PermissionError extends KtxError {
  /** The refused verb, e.g. `create`. */
  readonly verb: string | undefined
  /** The refused resource, e.g. `pods`. */
  readonly resource: string | undefined

  constructor(
    code: 'KTX_KUBE_FORBIDDEN' | 'KTX_KUBE_UNAUTHORIZED' | 'KTX_TUN_REQUIRES_ELEVATION',
    message: string,
    options: KtxErrorOptions & { verb?: string; resource?: string } = {},
  ) {
    super(code, 'permission', message, options)
    this.verb = options.verb
    this.resource = options.resource
  }
}

/** Someone else's object is in the way. Exit 5. */
export class ConflictError extends KtxError {
  constructor(
    message: string,
    options: KtxErrorOptions & {
      code?:
        | 'KTX_KUBE_CONFLICT'
        | 'KTX_SERVICE_LOCKED'
        | 'KTX_SESSION_ALIVE'
        | 'KTX_SERVICE_LOST'
        | 'KTX_WORKLOAD_LOST'
        | 'KTX_SERVICE_MESHED'
        | 'KTX_MESH_MARK_TAKEN'
        | 'KTX_SERVICE_EXISTS'
    } = {},
  ) {
    super(options.code ?? 'KTX_KUBE_CONFLICT', 'conflict', message, options)
  }
}

/** The cluster answered, but not as needed (API errors, a shadow pod that will not run). Exit 6. */
export class KubeApiError extends KtxError {
  /** HTTP status of the failed API call, when there was one. */
  readonly status: number | undefined

  constructor(code: KtxErrorCode, message: string, options: KtxErrorOptions & { status?: number } = {}) {
    super(code, 'cluster', message, options)
    this.status = options.status
  }
}

/** The network path to the cluster or through the tunnel failed. Exit 7. */
export class TunnelError extends KtxError {
  constructor(code: KtxErrorCode, message: string, options: KtxErrorOptions = {}) {
    super(code, 'network', message, options)
  }
}

/** Something on this machine failed (a port to listen on, a binary). Exit 8. */
export class HostError extends KtxError {
  constructor(code: KtxErrorCode, message: string, options: KtxErrorOptions = {}) {
    super(code, 'host', message, options)
  }
}

/**
 * A command ktx ran (`ip`, `tun2socks`, `resolvectl`, …) failed or could not be started. Carries
 * what ran and the end of its stderr, so the user sees the tool's own words. Exit 8.
 */
export class ExternalCommandError extends KtxError {
  readonly command: string
  readonly args: readonly string[]
  /** Exit code, or undefined when the process could not start or was killed by a signal. */
  readonly exitCode: number | undefined
  /** The last lines of stderr (at most ~2 KB). */
  readonly stderrTail: string

  constructor(
    message: string,
    options: KtxErrorOptions & {
      code?: 'KTX_COMMAND_FAILED' | 'KTX_COMMAND_NOT_FOUND'
      command: string
      args: readonly string[]
      exitCode?: number | undefined
      stderrTail?: string
    },
  ) {
    super(options.code ?? 'KTX_COMMAND_FAILED', 'host', message, {
      ...options,
      data: {
        ...options.data,
        command: options.command,
        args: options.args,
        exitCode: options.exitCode,
      },
    })
    this.command = options.command
    this.args = options.args
    this.exitCode = options.exitCode
    this.stderrTail = options.stderrTail ?? ''
  }
}

/** A named timeout ran out. Says which option controls it. */
export class TimeoutError extends KtxError {
  /** The option that sets this timeout, e.g. `timeouts.podReadyMs`. */
  readonly option: string
  readonly timeoutMs: number

  constructor(
    code: KtxErrorCode,
    message: string,
    options: KtxErrorOptions & { option: string; timeoutMs: number; category?: 'cluster' | 'network' },
  ) {
    super(code, options.category ?? 'cluster', message, options)
    this.option = options.option
    this.timeoutMs = options.timeoutMs
  }
}

/** Where a leftover resource lives, for `ktx clean` and error messages. */
export interface ResourceRef {
  readonly kind: string
  readonly name: string
  readonly namespace?: string
}

/** Teardown did not finish; `errors` has each failed step's error, `leftovers` what may remain. Exit 9. */
export class CleanupError extends KtxError {
  readonly errors: readonly unknown[]
  readonly leftovers: readonly ResourceRef[]

  constructor(message: string, errors: readonly unknown[], leftovers: readonly ResourceRef[] = []) {
    super('KTX_CLEANUP_INCOMPLETE', 'cleanup', message, {
      suggestions: ['Run `ktx clean` to remove what this session left behind.'],
      cause: errors[0],
    })
    this.errors = errors
    this.leftovers = leftovers
  }
}

/** True for any ktx error, even one thrown by another installed copy of core. */
export function isKtxError(value: unknown): value is KtxError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}

const EXIT_CODES: Readonly<Record<ErrorCategory, number>> = {
  usage: 2,
  config: 3,
  permission: 4,
  conflict: 5,
  cluster: 6,
  network: 7,
  host: 8,
  cleanup: 9,
  internal: 1,
}

/** The process exit code for an error: by category for ktx errors, 1 (a bug) for anything else. */
export function exitCodeFor(error: unknown): number {
  return isKtxError(error) ? EXIT_CODES[error.category] : 1
}

/** `error.message` for anything thrown, for log lines and wrapped messages. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
