/**
 * The last step of a preview: create the Service `<name>` over the ready shadow pod, then observe
 * that it works: its endpoints are the shadow, and a connection to `<name>.<namespace>` from inside
 * the cluster comes back out of the shadow's listener (the cluster DNS knows the name and the
 * cluster's proxy has applied the rule). The undo, registered the moment the Service exists,
 * deletes it first of all, before the tunnel goes.
 */
import type { V1Service } from '@kubernetes/client-node'

import { isKtxError } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import type { SessionLease } from '../../kube/lease.js'
import {
  type PreviewServiceSpec,
  buildPreviewService,
  createPreviewService,
  deleteServiceAndWait,
} from '../../kube/preview-service.js'
import { type Arrivals, confirmRouting } from '../shared/routing.js'
import type { SetupContext } from '../shared/setup.js'
import type { Dialer } from '../../tunnel/dialer.js'
import { type NameClaim, claimServiceName } from './claim.js'
import type { ResolvedPreviewOptions } from './options.js'

// A create refused because the name was taken meanwhile is judged again; more rounds mean others
// keep racing for the same name.
const CREATE_ROUNDS = 3

/** Creates and confirms the preview Service. Step `service.create`. */
export async function publishService(
  ctx: SetupContext,
  kube: Kube,
  opts: ResolvedPreviewOptions,
  shadow: {
    readonly lease: SessionLease
    /** Dials from inside the shadow pod; with `arrivals`, the routing probe. */
    readonly tunnel: Dialer & { readonly podIP: string }
    readonly arrivals: Arrivals
  },
  claim: NameClaim,
): Promise<V1Service> {
  const spec: PreviewServiceSpec = {
    name: opts.name,
    namespace: kube.namespace,
    sessionId: ctx.id,
    owner: opts.owner,
    type: opts.external ? 'LoadBalancer' : 'ClusterIP',
    ports: opts.expose.map((m) => m.remote),
    ownerReference: shadow.lease.ownerReference,
  }
  return ctx.step(
    'service.create',
    async () => {
      const service = await createOnce(ctx, kube, spec, claim)
      ctx.stack.defer('delete the Service', (signal) => deleteServiceAndWait(kube, opts.name, signal), {
        leftover: { kind: 'Service', name: opts.name, namespace: kube.namespace },
      })
      await waitServiceEndpoints(kube, {
        service: opts.name,
        until: (ips) => ips.has(shadow.tunnel.podIP),
        awaited: `the shadow pod (${shadow.tunnel.podIP})`,
        timeoutMs: opts.timeouts.endpointsMs,
        signal: ctx.signal,
      })
      await confirmName(ctx, kube, opts, shadow)
      return service
    },
    opts.name,
  )
}

// Creates the Service; a name taken since the claim is claimed again (refused if it is not a
// dead preview's) and the create retried. A ClusterIP asked for that is not free (yet) is left to
// the cluster to pick.
async function createOnce(
  ctx: SetupContext,
  kube: Kube,
  spec: PreviewServiceSpec,
  claim: NameClaim,
): Promise<V1Service> {
  let clusterIP = claim.clusterIP
  for (let round = 1; ; round++) {
    try {
      return await createPreviewService(kube, buildPreviewService({ ...spec, clusterIP }), ctx.signal)
    } catch (error) {
      if (!isKtxError(error) || round >= CREATE_ROUNDS) throw error
      if (error.code === 'KTX_KUBE_CONFLICT') {
        clusterIP = (await claimServiceName(ctx, kube, spec.name)).clusterIP
      } else if (clusterIP !== undefined && (error as { status?: unknown }).status === 422) {
        ctx.log.debug('The old ClusterIP is not free; the cluster picks one', { clusterIP })
        clusterIP = undefined
      } else {
        throw error
      }
    }
  }
}

// Dials the Service by the name callers use, from inside the shadow pod. The name, not the
// ClusterIP: the cluster DNS caches "no such name" (CoreDNS: up to 30 s) for a name someone asked
// for before the Service existed, and until that expires callers cannot reach the preview either.
async function confirmName(
  ctx: SetupContext,
  kube: Kube,
  opts: ResolvedPreviewOptions,
  shadow: { readonly tunnel: Dialer; readonly arrivals: Arrivals },
): Promise<void> {
  const port = opts.expose[0]?.remote
  if (port === undefined) return
  const host = `${opts.name}.${kube.namespace}`
  const timeoutMs = opts.timeouts.endpointsMs
  const verdict = await confirmRouting({
    dialer: shadow.tunnel,
    arrivals: shadow.arrivals,
    host,
    port,
    want: 'shadow',
    timeoutMs,
    signal: ctx.signal,
  })
  if (verdict === 'confirmed') return
  ctx.emit({
    type: 'warning',
    message: `could not confirm within ${Math.round(timeoutMs / 1000)}s that ${host}:${port} reaches this machine from inside the cluster (the cluster DNS may still remember that the name did not exist, or the node may not route a pod's connections back to itself); it may take a moment`,
  })
}
