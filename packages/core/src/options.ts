import { DEFAULT_SHADOW_IMAGE } from './contract.js'
import type { EventHandler } from './events.js'
import { UsageError } from './errors.js'
import type { Kube, KubeOptions } from './kube/client.js'
import { type Logger, noopLogger } from './logger.js'
import { localOwner } from './util/identity.js'

/** Named timeouts; each error that one of them causes names the option to change. */
export interface Timeouts {
  /** Shadow pod scheduled, pulled, started and Ready. Default 120 000. */
  readonly podReadyMs: number
  /** WebSocket port-forward upgrade and first bytes. Default 15 000. */
  readonly portForwardMs: number
  /** SSH handshake over the port-forward. Default 15 000. */
  readonly sshHandshakeMs: number
  /** One Kubernetes API request. Default 15 000. */
  readonly kubeRequestMs: number
  /** One teardown step (delete pod, delete lease, close a server). Default 20 000. */
  readonly cleanupStepMs: number
  /** TUN mode: tun2socks attached to the device. Default 10 000. */
  readonly tunReadyMs: number
  /** TUN mode: the TCP and DNS probes through the tunnel succeed. Default 20 000. */
  readonly probeMs: number
  /**
   * How long a broken tunnel (port-forward, SSH, shadow pod) may take to be rebuilt before the
   * session ends and restores everything. Default 180 000.
   */
  readonly reconnectMs: number
}

export { DEFAULT_SHADOW_IMAGE } from './contract.js'

/** Defaults for every optional {@link ConnectOptions} field. */
export const DEFAULTS = Object.freeze({
  image: DEFAULT_SHADOW_IMAGE,
  listenHost: '127.0.0.1',
  socksPort: 0,
  httpPort: 0,
  leaseDurationSeconds: 60,
  sshKeepaliveIntervalMs: 10_000,
  timeouts: Object.freeze<Timeouts>({
    podReadyMs: 120_000,
    portForwardMs: 15_000,
    sshHandshakeMs: 15_000,
    kubeRequestMs: 15_000,
    cleanupStepMs: 20_000,
    tunReadyMs: 10_000,
    probeMs: 20_000,
    reconnectMs: 180_000,
  }),
})

/** A local listener: host and port (0 picks a free port; the bound one is reported). */
export interface ListenOptions {
  readonly host?: string
  readonly port?: number
}

/** The options every verb with a shadow pod takes; `T` is the verb's timeouts. */
export interface BaseOptions<T extends Timeouts = Timeouts> {
  /** Kubeconfig/context/namespace to use, or a ready {@link Kube} client. */
  readonly kube?: KubeOptions | Kube
  /** Image of the in-cluster agent. Default {@link DEFAULT_SHADOW_IMAGE}. */
  readonly image?: string
  /** `user@host` recorded on cluster objects. Default: this process's user and host name. */
  readonly owner?: string
  /**
   * Lease duration; the lease is renewed every third of it, and other ktx runs judge the session
   * dead once it lapses. Default 60.
   */
  readonly leaseDurationSeconds?: number
  readonly timeouts?: Partial<T>
  /** Aborting during setup unwinds and rejects with the reason; after ready it closes the session. */
  readonly signal?: AbortSignal
  /**
   * Aborting it makes any teardown, during setup or after, skip its waits but no undo (as
   * `Session.hurry()`): for a second Ctrl+C.
   */
  readonly hurry?: AbortSignal
  readonly logger?: Logger
  readonly onEvent?: EventHandler
}

/** {@link BaseOptions} checked and with defaults filled in. */
export interface ResolvedBaseOptions<T extends Timeouts = Timeouts> {
  readonly kube: KubeOptions | Kube
  readonly image: string
  readonly owner: string
  readonly leaseDurationSeconds: number
  readonly timeouts: T
  readonly signal: AbortSignal | undefined
  readonly hurry: AbortSignal | undefined
  readonly logger: Logger
  readonly onEvent: EventHandler
}

/**
 * Checks and fills the options every verb shares, over `timeoutDefaults` (the verb's own timeouts
 * included). Pure apart from reading the local user/host name for `owner`.
 * @throws UsageError (`KTX_OPTION_INVALID`) naming the bad option.
 */
export function resolveBaseOptions<T extends Timeouts>(
  options: BaseOptions<T>,
  timeoutDefaults: T,
): ResolvedBaseOptions<T> {
  const image = options.image ?? DEFAULTS.image
  if (image.trim() === '' || /\s/.test(image)) {
    throw new UsageError(`Invalid image "${image}"`, {
      suggestions: ['Pass an image reference like repo/name:tag.'],
    })
  }
  const timeouts = { ...timeoutDefaults, ...definedOnly(options.timeouts ?? {}) }
  checkTimeouts(timeouts)
  return {
    kube: options.kube ?? {},
    image,
    owner: options.owner ?? localOwner(),
    leaseDurationSeconds: resolveLeaseDuration(options.leaseDurationSeconds),
    timeouts: Object.freeze(timeouts),
    signal: options.signal,
    hurry: options.hurry,
    logger: options.logger ?? noopLogger,
    onEvent: options.onEvent ?? (() => undefined),
  }
}

/**
 * Checks a TCP port number given as an option or flag.
 * @throws UsageError when it is not an integer in 0..65535.
 */
export function parsePort(name: string, value: unknown): number {
  const port = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`${name} must be a port number from 0 to 65535, got ${JSON.stringify(value)}`, {
      suggestions: [`Pick a free port for ${name}, or 0 to let the system choose one.`],
    })
  }
  return port
}

// Throws a UsageError naming the first timeout that is not a positive number of ms.
function checkTimeouts(timeouts: object): void {
  for (const [name, value] of Object.entries(timeouts) as [string, unknown][]) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new UsageError(`timeouts.${name} must be a positive number of milliseconds, got ${String(value)}`)
    }
  }
}

// The lease duration (default DEFAULTS), checked to be a whole number >= 10.
function resolveLeaseDuration(value: number | undefined): number {
  const leaseDurationSeconds = value ?? DEFAULTS.leaseDurationSeconds
  if (!Number.isInteger(leaseDurationSeconds) || leaseDurationSeconds < 10) {
    throw new UsageError(`leaseDurationSeconds must be an integer >= 10, got ${String(leaseDurationSeconds)}`)
  }
  return leaseDurationSeconds
}

// exactOptionalPropertyTypes lets callers pass `{ x: undefined }`; that must not erase a default.
/** Drops keys whose value is undefined, so spreading over defaults keeps the defaults. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
