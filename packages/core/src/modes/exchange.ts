/**
 * `exchange()`: the cluster's callers of a Service reach a process on this machine instead of the
 * Service's pods.
 *
 * Setup, each step's undo registered the moment it succeeds:
 *   kube client → resolve the target and check `--expose` (no writes yet) → probe the local ports
 *   (a closed one is a warning) → session Lease → lock the Service (and, in scale mode, the
 *   workload, recording its replicas; a dead holder is recovered first) → shadow pod (role
 *   `exchange`, label `ktx.dev/exchange=<session>`, the remote ports declared) → Ready → port-forward
 *   → SSH → one reverse forward per pair (agent listens on 0.0.0.0:<remote> in the pod) →
 *   selector mode: switch the Service's selector to the shadow, wait until the endpoints are only
 *   the shadow, guard the Service against re-applies;
 *   scale mode: give the shadow the workload's pod labels, wait until it is an endpoint, scale the
 *   workload to 0, wait until the shadow is the only endpoint, keep it at 0 (watched: re-scaled when
 *   its replicas come back, the session ended when the workload's lock or the workload is lost);
 *   both: probe the ClusterIP from the pod until the cluster's proxy sends it to the shadow.
 * Teardown runs backwards: stop the guard (or the workload watch), put the selector back (or scale the workload back, wait
 * for its pods to be Ready and take the shadow out of the Service), wait until the proxy sends
 * callers elsewhere, stop the reverse forwards, SSH, port-forward, delete the pod, release the
 * locks (removing every ktx annotation), delete the Lease.
 */
import { AGENT_HEALTH_PORT, AGENT_SSH_PORT, EXCHANGE_LABEL } from '../contract.js'
import { patchPodLabels } from '../kube/pod-labels.js'
import { describeWorkload } from '../kube/workload.js'
import type { Session } from '../session.js'
import type { Dialer } from '../tunnel/dialer.js'
import { acquireTarget, lockRecordFor, planTarget } from './exchange/acquire.js'
import { type ExchangeOptions, resolveExchangeOptions } from './exchange/options.js'
import type { PortMapping } from './shared/expose.js'
import { describeTarget, targetPortsOf } from './shared/target-ports.js'
import { Arrivals, type RoutingProbe } from './shared/routing.js'
import { scaleToShadow, workloadLabelsFor } from './exchange/scale.js'
import type { ResolvedTarget } from './exchange/target.js'
import { switchServiceToShadow } from './exchange/selector.js'
import {
  checkLocalPorts,
  describeMapping,
  freePort,
  startReverseForwards,
} from './shared/reverse-forwards.js'
import { buildSessionHandle } from './shared/session-handle.js'
import { createSetupContext } from './shared/setup.js'
import { followIntoService, openKube, openLease, openShadowTunnel } from './shared/shadow-tunnel.js'

/** A running exchange. Close it (or `await using` it) to give the Service back. */
export interface ExchangeSession extends Session {
  readonly kind: 'exchange'
  readonly mode: 'selector' | 'scale'
  /** The exchanged Service. */
  readonly service: string
  /** Scale mode: the workload scaled to 0, e.g. `deployment/web`. */
  readonly workload: string | undefined
  /** Name of the shadow pod. */
  readonly pod: string
  readonly expose: readonly PortMapping[]
  /** Target ports of the Service that were not exposed (callers to them are refused), described. */
  readonly unexposed: readonly string[]
}

/**
 * Redirects a Service's traffic to local ports. Resolves once the Service's endpoints are the
 * shadow pod only; rejects after undoing whatever it had done.
 * @throws UsageError (`KTX_OPTION_INVALID`, `KTX_EXPOSE_INVALID` listing the valid target ports,
 *   `KTX_TARGET_AMBIGUOUS`) / KubeApiError (`KTX_SERVICE_NOT_FOUND`, `KTX_WORKLOAD_NOT_FOUND`,
 *   `KTX_SERVICE_NO_SELECTOR`, shadow failures) / ConflictError `KTX_SERVICE_LOCKED` naming the
 *   owner and when it was last alive / TimeoutError (`KTX_SHADOW_NOT_READY`,
 *   `KTX_ENDPOINTS_NOT_READY`) / TunnelError / PermissionError, or `signal.reason` if aborted.
 */
export async function exchange(options: ExchangeOptions): Promise<ExchangeSession> {
  const opts = resolveExchangeOptions(options)
  const ctx = createSetupContext(opts)
  try {
    const kube = await openKube(ctx, opts.kube, opts.timeouts.kubeRequestMs)
    const first = await ctx.step('target.resolve', () => planTarget(kube, opts, ctx.signal), opts.target.name)
    const closedLocalPorts = await checkLocalPorts(ctx, opts)
    const lease = await openLease(ctx, kube, {
      verb: 'exchange',
      owner: opts.owner,
      durationSeconds: opts.leaseDurationSeconds,
    })
    const { target, plan } = await ctx.step(
      'service.lock',
      () => acquireTarget(ctx, kube, opts, lease, first),
      first.target.serviceName,
    )
    const service = target.serviceName
    for (const port of plan.unexposed) {
      ctx.emit({
        type: 'warning',
        message: `Service ${service} target port ${describeTarget(port)} is not exposed; callers to it will be refused`,
      })
    }
    const workload = opts.mode === 'scale' ? target.workload : undefined
    const workloadLabels = workload ? workloadLabelsFor(service, target.service.spec?.selector, workload) : {}

    const remotes = opts.expose.map((m) => m.remote)
    const tunnel = await openShadowTunnel(ctx, kube, lease, {
      spec: {
        name: `ktx-exchange-${service.slice(0, 30)}-${ctx.id}`,
        owner: opts.owner,
        image: opts.image,
        role: 'exchange',
        labels: { [EXCHANGE_LABEL]: ctx.id },
        ports: plan.shadowPorts,
        sshPort: freePort(AGENT_SSH_PORT, remotes),
        healthPort: freePort(AGENT_HEALTH_PORT, remotes),
      },
      timeouts: opts.timeouts,
    })
    const arrivals = new Arrivals()
    await ctx.step(
      'reverse.listen',
      () => startReverseForwards(ctx, tunnel, { ...opts, closedLocalPorts, onArrival: arrivals.record }),
      opts.expose.map(describeMapping).join(', '),
    )
    const probe = routingProbe(target, opts.expose, tunnel, arrivals)

    const record = lockRecordFor(ctx, opts, lease, workload?.ref)
    let lost: Promise<Error>
    if (workload === undefined) {
      const guard = await switchServiceToShadow(ctx, kube, {
        service,
        // Read at each wait: a replacement shadow pod has another IP.
        get shadowIP() {
          return tunnel.podIP
        },
        record,
        timeouts: opts.timeouts,
        probe,
      })
      lost = guard.lost
    } else {
      const watch = await scaleToShadow(ctx, kube, {
        service,
        workload,
        labels: workloadLabels,
        get pod() {
          return tunnel.pod
        },
        get shadowIP() {
          return tunnel.podIP
        },
        timeouts: opts.timeouts,
        probe,
      })
      lost = watch.lost
    }
    if (workload !== undefined) {
      // A replacement shadow pod joins the workload's pods the way the first did.
      tunnel.onRelink(async (link, replaced, signal) => {
        if (replaced) await patchPodLabels(kube, link.pod, workloadLabels, { signal })
      })
    }
    followIntoService(ctx, kube, tunnel, { service, timeoutMs: opts.timeouts.endpointsMs })
    ctx.emit({ type: 'step.done', step: 'ready' })

    return buildSessionHandle(
      'exchange',
      {
        id: ctx.id,
        namespace: kube.namespace,
        mode: opts.mode,
        service,
        workload: workload === undefined ? undefined : describeWorkload(workload.ref),
        get pod() {
          return tunnel.pod
        },
        expose: opts.expose,
        unexposed: plan.unexposed.map(describeTarget),
      },
      { ctx, lease, tunnel, failure: lost },
    )
  } catch (error) {
    throw await ctx.fail(error)
  }
}

// The Service port to probe the cluster's routing through: one whose target is an exposed port.
function routingProbe(
  target: ResolvedTarget,
  expose: readonly PortMapping[],
  dialer: Dialer,
  arrivals: Arrivals,
): RoutingProbe | undefined {
  const clusterIP = target.service.spec?.clusterIP
  if (clusterIP === undefined || clusterIP === '' || clusterIP === 'None') return undefined
  const remotes = new Set(expose.map((m) => m.remote))
  const port = targetPortsOf(target.service, target.podSpec).find(
    (t) => t.resolved !== undefined && remotes.has(t.resolved),
  )?.port
  return port === undefined ? undefined : { dialer, arrivals, host: clusterIP, port }
}
