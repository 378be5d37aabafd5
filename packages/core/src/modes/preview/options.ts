import { UsageError } from '../../errors.js'
import {
  type BaseOptions,
  DEFAULTS,
  type ResolvedBaseOptions,
  type Timeouts,
  resolveBaseOptions,
} from '../../options.js'
import { type PortMapping, checkPairs, parseExpose } from '../shared/expose.js'

/** Preview's timeouts on top of the common ones. */
export interface PreviewTimeouts extends Timeouts {
  /** The new Service's endpoints being the shadow pod, and the cluster's proxy sending it there. Default 60 000. */
  readonly endpointsMs: number
}

const PREVIEW_TIMEOUTS: PreviewTimeouts = Object.freeze({ ...DEFAULTS.timeouts, endpointsMs: 60_000 })

/** Options of {@link preview}. */
export interface PreviewOptions extends BaseOptions<PreviewTimeouts> {
  /** Name of the new Service (a DNS label: lower-case letters, digits and `-`, starting with a letter). */
  readonly name: string
  /**
   * `local:remote[,local:remote…]` (a bare port means the same on both sides), or the pairs. Each
   * remote port becomes a port of the Service, answered by the local port.
   */
  readonly expose: string | readonly PortMapping[]
  /** Create the Service as `LoadBalancer` instead of `ClusterIP` (ktctl's `--external`). Default false. */
  readonly external?: boolean
  /** Where inbound connections are carried on this machine. Default `127.0.0.1`. */
  readonly localHost?: string
}

/** {@link PreviewOptions} checked and with defaults filled in. */
export interface ResolvedPreviewOptions extends ResolvedBaseOptions<PreviewTimeouts> {
  readonly name: string
  readonly expose: readonly PortMapping[]
  readonly external: boolean
  readonly localHost: string
}

/**
 * Validates and fills defaults (pure apart from reading the local user/host name for `owner`).
 * @throws UsageError (`KTX_OPTION_INVALID`) naming the bad option.
 */
export function resolvePreviewOptions(options: PreviewOptions): Readonly<ResolvedPreviewOptions> {
  return Object.freeze({
    ...resolveBaseOptions(options, PREVIEW_TIMEOUTS),
    name: checkServiceName(options.name),
    expose: Object.freeze(
      typeof options.expose === 'string' ? parseExpose(options.expose) : checkPairs(options.expose),
    ),
    external: options.external ?? false,
    localHost: options.localHost ?? '127.0.0.1',
  })
}

// Service names are DNS-1035 labels (the API server refuses anything else, less clearly).
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/

/**
 * @throws UsageError when `name` cannot be a Service name.
 */
export function checkServiceName(name: string): string {
  if (SERVICE_NAME.test(name)) return name
  throw new UsageError(`"${name}" cannot be a Service name`, {
    suggestions: [
      'Use at most 63 lower-case letters, digits and "-", starting with a letter and ending with a letter or digit, e.g. web-preview.',
    ],
  })
}
