import { describe, expect, it } from 'vitest'

import { PermissionError } from '../../errors.js'
import { fakeKube } from '../../testing/fake-kube.js'
import { cleanAllNamespaces } from './all-namespaces.js'

const refuse = (resource: string) => () =>
  Promise.reject(new PermissionError('KTX_KUBE_FORBIDDEN', `Not allowed to list ${resource}`, {}))
const none = () => Promise.resolve({ items: [] })

describe('cleanAllNamespaces', () => {
  it('fails with what to do instead when every cluster-wide list is refused', async () => {
    const kube = fakeKube({
      coordination: { listLeaseForAllNamespaces: refuse('leases') },
      core: { listPodForAllNamespaces: refuse('pods'), listServiceForAllNamespaces: refuse('services') },
      apps: {
        listDeploymentForAllNamespaces: refuse('deployments'),
        listStatefulSetForAllNamespaces: refuse('statefulsets'),
      },
    })
    const error = await cleanAllNamespaces({ kube }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PermissionError)
    expect(error).toMatchObject({ code: 'KTX_KUBE_FORBIDDEN' })
    expect((error as PermissionError).message).toContain('leases, pods, services, deployments, statefulsets')
    expect((error as PermissionError).suggestions).toContain(
      'Clean one namespace at a time: ktx clean -n <namespace>',
    )
  })

  it('reports a refused list by name and goes on with the others', async () => {
    const kube = fakeKube({
      coordination: { listLeaseForAllNamespaces: refuse('leases') },
      core: { listPodForAllNamespaces: none, listServiceForAllNamespaces: none },
      apps: { listDeploymentForAllNamespaces: none, listStatefulSetForAllNamespaces: none },
    })
    expect(await cleanAllNamespaces({ kube, dryRun: true })).toEqual({
      dryRun: true,
      namespaces: [],
      failed: [],
      refused: ['list leases (all namespaces)'],
    })
  })

  it('finds namespaces by label and by ktx annotations only; an unrelated Service is no reason', async () => {
    const seen: string[] = []
    const kube = fakeKube({
      coordination: {
        listLeaseForAllNamespaces: none,
        // cleanCluster's first call, in `ns` (the fake's own namespace): it ran there, and stops.
        listNamespacedLeaseWithHttpInfo: (req: { namespace: string }) => {
          seen.push(req.namespace)
          return Promise.reject(new PermissionError('KTX_KUBE_FORBIDDEN', 'stop here', {}))
        },
      },
      core: {
        listPodForAllNamespaces: none,
        listServiceForAllNamespaces: () =>
          Promise.resolve({
            items: [
              { metadata: { namespace: 'plain', annotations: { other: 'x' } } },
              { metadata: { namespace: 'ns', annotations: { 'ktx.dev/lock': '{}' } } },
            ],
          }),
      },
      apps: { listDeploymentForAllNamespaces: none, listStatefulSetForAllNamespaces: none },
    })
    const report = await cleanAllNamespaces({ kube })
    expect(seen).toEqual(['ns'])
    expect(report.failed.map((f) => f.namespace)).toEqual(['ns'])
    expect(report.failed[0]!.error).toContain('stop here')
    expect(report.refused).toEqual([])
  })
})
