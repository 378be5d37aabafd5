import { ApiException } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { ConfigError, PermissionError, exitCodeFor } from '../errors.js'
import { toKubeError } from './errors.js'

const call = { verb: 'create', resource: 'pods', namespace: 'team-a', server: 'https://10.0.0.1:6443' }
const status = (code: number, reason: string, message: string, details?: object) =>
  new ApiException(
    code,
    'Unknown API Status Code!',
    JSON.stringify({ kind: 'Status', code, reason, message, details }),
    {},
  )

describe('toKubeError', () => {
  it('names verb, resource and namespace for a 403', () => {
    const error = toKubeError(
      status(
        403,
        'Forbidden',
        'pods is forbidden: User "system:serviceaccount:x:y" cannot create resource "pods"',
      ),
      call,
    )
    expect(error).toBeInstanceOf(PermissionError)
    expect(error.code).toBe('KTX_KUBE_FORBIDDEN')
    expect(error.message).toContain('Not allowed to create pods in namespace "team-a"')
    expect(error.message).toContain('cannot create resource')
    expect((error as PermissionError).verb).toBe('create')
    expect(error.suggestions.join('\n')).toContain('kubectl auth can-i create pods -n team-a')
    expect(exitCodeFor(error)).toBe(4)
  })

  it('turns a 404 on the namespace into a clear config error', () => {
    const error = toKubeError(
      status(404, 'NotFound', 'namespaces "nope" not found', { name: 'nope', kind: 'namespaces' }),
      { ...call, namespace: 'nope' },
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.code).toBe('KTX_KUBE_NAMESPACE_NOT_FOUND')
    expect(error.message).toBe('Namespace "nope" does not exist')
  })

  it('keeps other 404s as API errors with the status', () => {
    const error = toKubeError(status(404, 'NotFound', 'pods "x" not found', { name: 'x', kind: 'pods' }), {
      ...call,
      verb: 'get',
      name: 'x',
    })
    expect(error.code).toBe('KTX_KUBE_API')
    expect((error as unknown as { status: number }).status).toBe(404)
  })

  it('maps 401 and 409', () => {
    expect(toKubeError(new ApiException(401, 'Unauthorized', undefined, {}), call).code).toBe(
      'KTX_KUBE_UNAUTHORIZED',
    )
    expect(toKubeError(status(409, 'AlreadyExists', 'exists'), call).category).toBe('conflict')
  })

  it('reports a refused connection as an unreachable API server', () => {
    const refused = Object.assign(
      new Error('request to https://10.0.0.1:6443 failed, reason: connect ECONNREFUSED'),
      {
        code: 'ECONNREFUSED',
      },
    )
    const error = toKubeError(refused, call)
    expect(error.code).toBe('KTX_KUBE_UNREACHABLE')
    expect(error.message).toContain('API server unreachable at https://10.0.0.1:6443')
    expect(exitCodeFor(error)).toBe(7)
  })

  it('finds the code in a nested cause', () => {
    const nested = new Error('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }),
    })
    expect(toKubeError(nested, call).code).toBe('KTX_KUBE_UNREACHABLE')
  })
})
