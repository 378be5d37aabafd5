import { UsageError } from '../../errors.js'
import {
  type BaseOptions,
  DEFAULTS,
  type ResolvedBaseOptions,
  type Timeouts,
  resolveBaseOptions,
} from '../../options.js'
import { type PortMapping, parseExpose, checkPairs } from '../shared/expose.js'

/** What to exchange: a Service, or a workload whose Service is looked up. */
export interface ExchangeTarget {
  readonly kind: 'Service' | 'Deployment' | 'StatefulSet'
  readonly name: string
}

/** Exchange's timeouts on top of the common ones. */
export interface ExchangeTimeouts extends Timeouts {
  /** The Service's endpoints switching to (or away from) the shadow pod. Default 60 000. */
  readonly endpointsMs: number
  /** Scale mode, on exit: the workload's pods Ready again (ktctl's --recoverWaitTime). Default 120 000. */
  readonly recoverWaitMs: number
}

const EXCHANGE_TIMEOUTS: ExchangeTimeouts = Object.freeze({
  ...DEFAULTS.timeouts,
  endpointsMs: 60_000,
  recoverWaitMs: 120_000,
})

/** Options of {@link exchange}. */
export interface ExchangeOptions extends BaseOptions<ExchangeTimeouts> {
  /** `web`, `svc/web`, `service/web`, `deploy/web`, `deployment/web`, `sts/web`, `statefulset/web`. */
  readonly target: string
  /** `local:remote[,local:remote…]` (a bare port means the same on both sides), or the pairs. */
  readonly expose: string | readonly PortMapping[]
  /**
   * `selector` (default): the Service's selector is switched to the shadow pod. `scale`: the
   * shadow pod carries the workload's labels and the workload is scaled to 0 (works with Istio
   * subsets, which select on pod labels).
   */
  readonly mode?: 'selector' | 'scale'
  /** Where inbound connections are carried on this machine. Default `127.0.0.1`. */
  readonly localHost?: string
}

/** {@link ExchangeOptions} checked and with defaults filled in. */
export interface ResolvedExchangeOptions extends ResolvedBaseOptions<ExchangeTimeouts> {
  readonly target: ExchangeTarget
  readonly expose: readonly PortMapping[]
  readonly mode: 'selector' | 'scale'
  readonly localHost: string
}

/**
 * Validates and fills defaults (pure apart from reading the local user/host name for `owner`).
 * @throws UsageError (`KTX_OPTION_INVALID`) naming the bad option.
 */
export function resolveExchangeOptions(options: ExchangeOptions): Readonly<ResolvedExchangeOptions> {
  const mode = options.mode ?? 'selector'
  if ((mode as string) !== 'selector' && (mode as string) !== 'scale') {
    throw new UsageError(`Unknown exchange mode "${mode as string}"`, {
      suggestions: ['Use --mode selector (switch the Service) or --mode scale (scale the workload to 0).'],
    })
  }
  return Object.freeze({
    ...resolveBaseOptions(options, EXCHANGE_TIMEOUTS),
    target: parseTarget(options.target),
    expose: Object.freeze(
      typeof options.expose === 'string' ? parseExpose(options.expose) : checkPairs(options.expose),
    ),
    mode,
    localHost: options.localHost ?? '127.0.0.1',
  })
}

const TARGET_KINDS: Readonly<Record<string, ExchangeTarget['kind']>> = {
  svc: 'Service',
  service: 'Service',
  services: 'Service',
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
}

/**
 * `web` → Service web; `deploy/web` → Deployment web; kubectl's short and long kind names work.
 * @throws UsageError for an unknown kind or a name that is not a DNS label.
 */
export function parseTarget(value: string): ExchangeTarget {
  const trimmed = value.trim()
  const slash = trimmed.indexOf('/')
  const kindText = slash === -1 ? 'service' : trimmed.slice(0, slash).toLowerCase()
  const name = slash === -1 ? trimmed : trimmed.slice(slash + 1)
  const kind = TARGET_KINDS[kindText]
  if (kind === undefined) {
    throw new UsageError(`Cannot exchange "${value}": unknown kind "${kindText}"`, {
      suggestions: ['Name a Service (web or svc/web), a Deployment (deploy/web) or a StatefulSet (sts/web).'],
    })
  }
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`Cannot exchange "${value}": "${name}" is not a valid object name`)
  }
  return { kind, name }
}
