import { ApiException } from '@kubernetes/client-node'

import {
  ConfigError,
  ConflictError,
  KtxError,
  KubeApiError,
  PermissionError,
  TunnelError,
  messageOf,
} from '../errors.js'

/** What a Kubernetes call was trying to do; used to make its errors say so. */
export interface KubeCallContext {
  /** RBAC verb: get, list, watch, create, update, patch, delete. */
  readonly verb: string
  /** Plural resource, e.g. `pods`, `leases`. */
  readonly resource: string
  readonly namespace?: string
  readonly name?: string
  /** API server URL, for unreachable-server messages. */
  readonly server: string
}

/** The parts of a Kubernetes `Status` body ktx uses. */
interface KubeStatus {
  readonly message?: string
  readonly reason?: string
  readonly details?: { readonly kind?: string; readonly name?: string }
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
])

/**
 * Maps anything a `@kubernetes/client-node` call throws to a {@link KtxError}, keeping it as `cause`.
 * 401/403 → PermissionError (naming verb and resource), 404 on the namespace → ConfigError, 409 →
 * ConflictError, a refused/timed-out connection → TunnelError `KTX_KUBE_UNREACHABLE`.
 */
export function toKubeError(error: unknown, call: KubeCallContext): KtxError {
  if (error instanceof KtxError) return error
  const where = call.namespace ? ` in namespace "${call.namespace}"` : ''
  const target = call.name ? `${call.resource}/${call.name}` : call.resource
  if (error instanceof ApiException) {
    const status = parseStatus(error.body)
    const detail = status.message ?? `HTTP ${error.code}`
    switch (error.code) {
      case 401:
        return new PermissionError(
          'KTX_KUBE_UNAUTHORIZED',
          `The API server rejected the credentials: ${detail}`,
          {
            cause: error,
            suggestions: ['Refresh your credentials (log in again) or check the kubeconfig user.'],
          },
        )
      case 403:
        return new PermissionError(
          'KTX_KUBE_FORBIDDEN',
          `Not allowed to ${call.verb} ${call.resource}${where}: ${detail}`,
          {
            cause: error,
            verb: call.verb,
            resource: call.resource,
            suggestions: [
              `Ask for RBAC rights to "${call.verb}" on "${call.resource}"${where}.`,
              `Check with: kubectl auth can-i ${call.verb} ${call.resource}${call.namespace ? ` -n ${call.namespace}` : ''}`,
            ],
          },
        )
      case 404:
        if (
          status.details?.kind === 'namespaces' ||
          (call.resource === 'namespaces' && call.verb !== 'list')
        ) {
          const ns = status.details?.name ?? call.namespace ?? call.name ?? ''
          return new ConfigError('KTX_KUBE_NAMESPACE_NOT_FOUND', `Namespace "${ns}" does not exist`, {
            cause: error,
            suggestions: ['Pass an existing namespace with --namespace, or create it first.'],
            data: { namespace: ns },
          })
        }
        return new KubeApiError('KTX_KUBE_API', `${target}${where} not found: ${detail}`, {
          cause: error,
          status: 404,
        })
      case 409:
        return new ConflictError(`${target}${where} already exists or changed meanwhile: ${detail}`, {
          cause: error,
          suggestions: ['Retry; if it persists, run `ktx clean`.'],
        })
      default:
        return new KubeApiError('KTX_KUBE_API', `Failed to ${call.verb} ${target}${where}: ${detail}`, {
          cause: error,
          status: error.code,
        })
    }
  }
  const code = errorCode(error)
  if ((code !== undefined && UNREACHABLE_CODES.has(code)) || isAbortLike(error)) {
    return unreachable(call.server, error)
  }
  return new KubeApiError('KTX_KUBE_API', `Failed to ${call.verb} ${target}${where}: ${messageOf(error)}`, {
    cause: error,
  })
}

/** The error for an API server that does not answer; also used for request timeouts. */
export function unreachable(server: string, cause: unknown): TunnelError {
  return new TunnelError('KTX_KUBE_UNREACHABLE', `API server unreachable at ${server}: ${messageOf(cause)}`, {
    cause,
    suggestions: [
      'Check that the cluster is running and this machine can reach it (VPN, firewall, proxy).',
      'Check the server URL and context in your kubeconfig (`kubectl config view --minify`).',
    ],
    data: { server },
  })
}

function parseStatus(body: unknown): KubeStatus {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body)
      return typeof parsed === 'object' && parsed !== null ? parsed : {}
    } catch {
      return body.trim() === '' ? {} : { message: body.trim() }
    }
  }
  return typeof body === 'object' && body !== null ? body : {}
}

// Node system errors and node-fetch's FetchError both carry `code`; undici nests it in `cause`.
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e !== 'object') return undefined
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

function isAbortLike(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return error.name === 'AbortError' || error.name === 'TimeoutError'
}
