import { UsageError } from '../../errors.js'
import {
  type BaseOptions,
  DEFAULTS,
  type ResolvedBaseOptions,
  type Timeouts,
  resolveBaseOptions,
} from '../../options.js'
import { type PortMapping, checkPairs, parseExpose } from '../shared/expose.js'
import { type VersionMark, parseVersionMark } from './mark.js'

/** Mesh's timeouts on top of the common ones. */
export interface MeshTimeouts extends Timeouts {
  /** The Service's endpoints switching to (or away from) the router. Default 60 000. */
  readonly endpointsMs: number
}

const MESH_TIMEOUTS: MeshTimeouts = Object.freeze({ ...DEFAULTS.timeouts, endpointsMs: 60_000 })

/** How a mesh takes its share of the traffic. */
export type MeshMode = 'auto' | 'manual'

/** Options of {@link mesh}. */
export interface MeshOptions extends BaseOptions<MeshTimeouts> {
  /** The Service to mesh (`web` or `svc/web`). */
  readonly service: string
  /** `local:remote[,local:remote…]`: remote is a target port of the Service. */
  readonly expose: string | readonly PortMapping[]
  /** `val`, `key:val` or `key:`; absent: a random value under header `version`. */
  readonly versionMark?: string
  /**
   * `auto` (default): a shared router routes requests carrying the mark to this machine.
   * `manual`: only a shadow pod with the Service's labels plus `<key>=<val>` (for your own
   * Istio/Linkerd rules); nothing else in the cluster changes.
   */
  readonly mode?: MeshMode
  /** Where inbound connections are carried on this machine. Default `127.0.0.1`. */
  readonly localHost?: string
}

/** {@link MeshOptions} checked and with defaults filled in. */
export interface ResolvedMeshOptions extends ResolvedBaseOptions<MeshTimeouts> {
  readonly service: string
  readonly expose: readonly PortMapping[]
  readonly mark: VersionMark
  readonly mode: MeshMode
  readonly localHost: string
}

/**
 * Validates and fills defaults.
 * @throws UsageError (`KTX_OPTION_INVALID`, `KTX_EXPOSE_INVALID`) naming the bad option.
 */
export function resolveMeshOptions(options: MeshOptions): Readonly<ResolvedMeshOptions> {
  const mode = options.mode ?? 'auto'
  if ((mode as string) !== 'auto' && (mode as string) !== 'manual') {
    throw new UsageError(`Unknown mesh mode "${mode as string}"`, {
      suggestions: [
        'Use --mode auto (a router sends marked requests here) or --mode manual (a labelled shadow pod).',
      ],
    })
  }
  return Object.freeze({
    ...resolveBaseOptions(options, MESH_TIMEOUTS),
    service: parseServiceName(options.service),
    expose: Object.freeze(
      typeof options.expose === 'string' ? parseExpose(options.expose) : checkPairs(options.expose),
    ),
    mark: parseVersionMark(options.versionMark),
    mode,
    localHost: options.localHost ?? '127.0.0.1',
  })
}

// `web`, `svc/web` or `service/web`; mesh works on Services only.
function parseServiceName(value: string): string {
  const trimmed = value.trim()
  const name = trimmed.replace(/^(svc|service|services)\//i, '')
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`Cannot mesh "${value}": name a Service (web or svc/web)`, {
      suggestions: [
        'Mesh routes by header in front of a Service; to redirect a workload use `ktx exchange`.',
      ],
    })
  }
  return name
}
