import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  Observable,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node'

import { anySignal } from '../util/abort.js'
import { type KubeCallContext, toKubeError, unreachable } from './errors.js'
import { type KubeOptions, type ResolvedKubeConfig, resolveKubeConfig } from './kubeconfig.js'

export type { KubeOptions } from './kubeconfig.js'

/** Per-call options handed to a generated API method. */
export type CallOptions = ConfigurationOptions

/**
 * A Kubernetes client pinned to one context and namespace. Every API call goes through
 * {@link Kube.call}, which bounds it by the request timeout and maps failures to ktx errors.
 */
export interface Kube {
  readonly config: KubeConfig
  readonly context: string
  /** Namespace for ktx's objects (option, else the context's, else `default`). */
  readonly namespace: string
  /** API server URL. */
  readonly server: string
  readonly core: CoreV1Api
  readonly coordination: CoordinationV1Api
  /** Deployments and StatefulSets (exchange's scale mode). */
  readonly apps: AppsV1Api
  /** EndpointSlices (watching a Service's endpoints switch over). */
  readonly discovery: DiscoveryV1Api
  readonly requestTimeoutMs: number
  /**
   * Runs one API call. `fn` must pass the given options to the generated method.
   * @throws KtxError from {@link toKubeError}; `signal.reason` unchanged when `signal` aborts.
   */
  call<T>(
    what: Omit<KubeCallContext, 'server'>,
    fn: (options: CallOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>
}

/** Options of {@link createKube}. */
export interface CreateKubeOptions extends KubeOptions {
  /** Bound on each API request. Default 15 000 ms. */
  readonly requestTimeoutMs?: number
}

/** A value is a ready {@link Kube} (rather than options to make one). */
export function isKube(value: unknown): value is Kube {
  return typeof value === 'object' && value !== null && 'core' in value && 'call' in value
}

/**
 * Resolves the kubeconfig and builds a client. Makes no request yet.
 * @throws ConfigError for an unusable kubeconfig or unknown context (see {@link resolveKubeConfig}).
 */
export function createKube(options: CreateKubeOptions = {}): Kube {
  return kubeFromConfig(resolveKubeConfig(options), options.requestTimeoutMs ?? 15_000)
}

/** Builds a {@link Kube} from an already resolved kubeconfig. */
export function kubeFromConfig(resolved: ResolvedKubeConfig, requestTimeoutMs: number): Kube {
  const { config, context, namespace, server } = resolved
  return {
    config,
    context,
    namespace,
    server,
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    apps: config.makeApiClient(AppsV1Api),
    discovery: config.makeApiClient(DiscoveryV1Api),
    requestTimeoutMs,
    async call(what, fn, signal) {
      const timeout = AbortSignal.timeout(requestTimeoutMs)
      const combined = anySignal(timeout, signal)
      try {
        return await fn(withSignal(combined))
      } catch (error) {
        if (signal?.aborted) throw signal.reason
        if (timeout.aborted) {
          throw unreachable(server, new Error(`no answer within ${requestTimeoutMs} ms`))
        }
        throw toKubeError(error, { ...what, server })
      }
    },
  }
}

// The generated client has no per-call timeout; a middleware puts our signal on the request.
function withSignal(signal: AbortSignal): CallOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal)
          return new Observable(Promise.resolve(context))
        },
        post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  }
}
