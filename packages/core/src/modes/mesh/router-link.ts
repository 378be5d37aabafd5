/**
 * This session's route in the mesh router, kept alive. The route lives with its control
 * connection (a port-forward to the router pod's control port), so when that drops (the API
 * server or the kubelet restarted, the network was cut) the router forgets it and marked requests
 * go to the Service's own pods. The link is rebuilt and the route added again, with backoff,
 * within `timeouts.reconnectMs`; after that the session ends and restores.
 */
import type { RouterRoute } from '../../contract.js'
import { KubeApiError, TunnelError, isKtxError, messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import { openPortForward } from '../../kube/port-forward.js'
import type { PortForwardStream } from '../../kube/port-forward-stream.js'
import { readPod } from '../../kube/shadow.js'
import { type RouterControl, openRouterControl } from '../../tunnel/router-control.js'
import { keepAlive } from '../../util/heal.js'
import { routerControlPort } from '../shared/mesh-group.js'
import type { SetupContext } from '../shared/setup.js'
import type { ResolvedMeshOptions } from './options.js'

/** The route, registered and kept. */
export interface KeptRoute {
  /** Settles with the error when the route could not be put back in time. Never otherwise. */
  readonly ended: Promise<Error>
}

interface RouterLink {
  readonly forward: PortForwardStream
  readonly control: RouterControl
}

/**
 * Registers `route` with the router pod `router` and keeps it registered; the undo removes it.
 * @throws ConflictError `KTX_MESH_MARK_TAKEN`, TunnelError, KubeApiError from the first attempt.
 */
export async function keepRoute(
  ctx: SetupContext,
  kube: Kube,
  input: { readonly router: string; readonly route: RouterRoute; readonly opts: ResolvedMeshOptions },
): Promise<KeptRoute> {
  const { router, route, opts } = input
  const open = (signal: AbortSignal): Promise<RouterLink> =>
    openRouterLink(kube, { router, route, portForwardMs: opts.timeouts.portForwardMs }, signal)
  const first = await open(ctx.signal)
  const stop = new AbortController()
  ctx.stack.defer('remove the route from the router', async () => {
    stop.abort(new Error('the session is closing'))
    await healer.current.control.close()
    await healer.current.forward.close()
  })
  const healer = keepAlive<RouterLink>({
    first,
    lost: (link) => link.control.ended,
    discard: (link) => {
      link.forward.destroy()
    },
    reopen: open,
    budgetMs: opts.timeouts.reconnectMs,
    signal: AbortSignal.any([ctx.signal, stop.signal]),
    // Someone took the mark while the route was gone: no retry gets it back.
    fatal: (error) => isKtxError(error) && error.code === 'KTX_MESH_MARK_TAKEN',
    onDegraded: (error) => {
      ctx.log.warn('Mesh router control connection lost; re-adding the route', { error: messageOf(error) })
      ctx.emit({
        type: 'warning',
        message: `Lost the route in mesh router ${router} (${messageOf(error)}); marked requests go to the Service's pods until it is back`,
      })
    },
    onAttemptFailed: (error, attempt) => {
      ctx.log.info('Mesh route not back yet', { attempt, error: messageOf(error) })
    },
    onRestored: (_link, outage) => {
      ctx.log.info('Mesh route restored', outage)
      ctx.emit({
        type: 'warning',
        message: `Route in mesh router ${router} restored after ${(outage.downMs / 1000).toFixed(1)}s`,
      })
    },
    giveUp: (last, downMs) =>
      new TunnelError(
        'KTX_TUNNEL_LOST',
        `Lost the route in mesh router ${router} and could not put it back within ${Math.round(downMs / 1000)}s: ${messageOf(last)}`,
        {
          cause: last,
          suggestions: [
            `Check the router pod: kubectl get pod -n ${kube.namespace} ${router}`,
            'Allow a longer outage with --reconnectTimeout <seconds>.',
          ],
        },
      ),
  })
  return { ended: healer.ended }
}

async function openRouterLink(
  kube: Kube,
  input: { readonly router: string; readonly route: RouterRoute; readonly portForwardMs: number },
  signal: AbortSignal,
): Promise<RouterLink> {
  const pod = await readPod(kube, input.router, signal)
  if (pod === undefined || pod.metadata?.deletionTimestamp !== undefined) {
    throw new KubeApiError('KTX_SHADOW_FAILED', `Mesh router pod ${kube.namespace}/${input.router} is gone`)
  }
  const forward = await openPortForward(kube, {
    pod: input.router,
    port: routerControlPort(pod),
    timeoutMs: input.portForwardMs,
    signal,
  })
  const control = openRouterControl(forward)
  try {
    await control.add(input.route)
  } catch (error) {
    forward.destroy()
    throw error
  }
  return { forward, control }
}
