/**
 * The steps every mode with a shadow pod shares, each registering its undo the moment it succeeds:
 *   kube client → session Lease (renewed) → … → shadow pod (owned by the Lease) → pod Ready
 *   (watched) → port-forward WebSocket to the agent's SSH port → SSH handshake,
 * and then keeps that chain alive (shadow-link.ts rebuilds it when it breaks).
 * The lease and the tunnel are separate calls so a mode can do its own work in between (exchange
 * takes its Service lock, which names the lease, before it makes the pod).
 */
import { TunnelError, isKtxError, messageOf } from '../../errors.js'
import { type Kube, createKube, isKube } from '../../kube/client.js'
import type { KubeOptions } from '../../kube/kubeconfig.js'
import { waitServiceEndpoints } from '../../kube/endpoints.js'
import { type SessionLease, createSessionLease } from '../../kube/lease.js'
import { deletePod, waitPodGone } from '../../kube/shadow.js'
import type { Timeouts } from '../../options.js'
import { DialError, type Dialer } from '../../tunnel/dialer.js'
import { type SessionKeyPair, generateSessionKey } from '../../tunnel/keys.js'
import type { RemoteListener } from '../../tunnel/reverse.js'
import type { ReverseConnectionHandler } from '../../tunnel/ssh.js'
import { keepAlive } from '../../util/heal.js'
import type { SetupContext } from './setup.js'
import {
  type LinkPlan,
  type ShadowLink,
  type ShadowPodSpec,
  createLinkPod,
  discardLink,
  closeDirectPath,
  connectLink,
  rebuildLink,
  waitLinkPodReady,
} from './shadow-link.js'

export type { ShadowLink, ShadowPodSpec } from './shadow-link.js'

/** Resolves the kube client (step `kube.connect`). */
export function openKube(
  ctx: SetupContext,
  kube: KubeOptions | Kube,
  requestTimeoutMs: number,
): Promise<Kube> {
  return ctx.step('kube.connect', () =>
    Promise.resolve(isKube(kube) ? kube : createKube({ ...kube, requestTimeoutMs })),
  )
}

/** Creates the session Lease and defers its deletion (step `lease.create`). */
export async function openLease(
  ctx: SetupContext,
  kube: Kube,
  options: {
    readonly owner: string
    readonly durationSeconds: number
    readonly verb: 'connect' | 'exchange' | 'mesh' | 'preview'
  },
): Promise<SessionLease> {
  const lease = await ctx.step('lease.create', () =>
    createSessionLease(kube, {
      name: `ktx-${ctx.id}`,
      sessionId: ctx.id,
      owner: options.owner,
      verb: options.verb,
      durationSeconds: options.durationSeconds,
      logger: ctx.log,
      onRenewFailed: (error) => {
        ctx.emit({ type: 'heartbeat.failed', error })
      },
      signal: ctx.signal,
    }),
  )
  ctx.stack.defer('delete lease', (signal) => lease.close(signal), {
    leftover: { kind: 'Lease', name: lease.name, namespace: kube.namespace },
  })
  return lease
}

/** Work redone on every rebuilt link before it counts as ready; `replaced`: it is a new pod. */
export type RelinkHook = (link: ShadowLink, replaced: boolean, signal: AbortSignal) => Promise<void>

/**
 * The session's way into its shadow pod, kept alive: dials and remote listeners go over the
 * current link; when it breaks the tunnel is `degraded`, rebuilds it (jittered backoff, bounded by
 * `timeouts.reconnectMs`), puts the remote listeners back and runs the relink hooks. Dials made
 * while it heals wait a little for it, then fail.
 */
export interface ShadowTunnel extends Dialer, RemoteListener {
  /** The shadow pod serving the session now (another one once the first was lost). */
  readonly pod: string
  /** Its IP. */
  readonly podIP: string
  readonly state: 'ready' | 'degraded'
  /** Settles with the error when a broken link could not be rebuilt in time. Never otherwise. */
  readonly ended: Promise<Error>
  /** Registers work to redo on each rebuilt link (labels a new pod must carry, a route to re-add). */
  onRelink(hook: RelinkHook): void
  /** No more rebuilds (the session is closing): a broken link stays broken. */
  stopHealing(): void
  /** Cuts the current link at once (the session is being destroyed). */
  destroy(): void
}

// How long a new connection waits for a link being rebuilt: long enough to ride out an agent
// reconnect, short enough that a client sees an error rather than a hang.
const DIAL_WAIT_MS = 10_000
// How long a pod that is still there may take to be Ready again before a new one replaces it.
const REUSE_WAIT_MS = 30_000

/**
 * Creates the shadow pod (owned by `lease`), waits until it is Ready, opens the port-forward and
 * the SSH connection, and keeps them alive. Steps `shadow.create`, `shadow.ready`,
 * `port-forward.open`, `ssh.connect`; events `tunnel.degraded` / `tunnel.restored` while healing.
 */
export async function openShadowTunnel(
  ctx: SetupContext,
  kube: Kube,
  lease: SessionLease,
  options: {
    readonly spec: ShadowPodSpec
    readonly timeouts: Timeouts
    readonly keys?: SessionKeyPair
    /** Dial out over the direct data path, SSH as its fallback (connect). Default false: SSH only. */
    readonly directPath?: boolean
  },
): Promise<ShadowTunnel> {
  const { spec, timeouts } = options
  const namespace = kube.namespace
  const pods = new Set<string>()
  // The pod the next rebuild starts from: the last one made, even by an attempt that then failed.
  let newestPod = spec.name
  const plan: LinkPlan = {
    kube,
    sessionId: ctx.id,
    lease,
    spec,
    keys: options.keys ?? generateSessionKey(`ktx-${ctx.id}`),
    timeouts,
    directPath: options.directPath ?? false,
    log: ctx.log,
    onPodNamed: (name) => {
      pods.add(name)
      newestPod = name
    },
  }
  // One undo for every pod the session makes, first or replacement, read when it runs.
  ctx.stack.defer(
    'delete shadow pod',
    async (signal, unwind) => {
      const names = [...pods]
      await Promise.all(names.map((name) => deletePod(kube, name, signal)))
      await unwind.wait((waitSignal) => Promise.all(names.map((name) => waitPodGone(kube, name, waitSignal))))
    },
    { leftover: { kind: 'Pod', name: spec.name, namespace } },
  )
  const first = await openFirstLink(ctx, plan)
  const stop = new AbortController()
  ctx.stack.defer('close ssh', async () => {
    stop.abort(new Error('the session is closing'))
    closeDirectPath(healer.current, ctx.log)
    await healer.current.ssh.close()
    await healer.current.forward.close()
  })
  const listeners = new Map<
    string,
    { bindAddress: string; port: number; handler: ReverseConnectionHandler }
  >()
  const hooks: RelinkHook[] = []
  let generation = 1
  let replacedLast = false
  const healer = keepAlive<ShadowLink>({
    first,
    lost: (link) => link.ssh.ended,
    discard: discardLink,
    reopen: async (signal) => {
      // Without its Lease the session's pods are garbage: a new one would be collected at once.
      if (!(await lease.isHeld(signal))) throw leaseLost(lease.name, namespace)
      const { link, replaced } = await rebuildLink(
        plan,
        newestPod,
        { nextName: () => `${spec.name}-${(generation += 1)}`, reuseWaitMs: REUSE_WAIT_MS },
        signal,
      )
      replacedLast = replaced
      try {
        for (const { bindAddress, port, handler } of listeners.values())
          await link.ssh.forwardIn(bindAddress, port, handler)
        for (const hook of hooks) await hook(link, replaced, signal)
      } catch (error) {
        discardLink(link)
        throw error
      }
      return link
    },
    budgetMs: timeouts.reconnectMs,
    signal: AbortSignal.any([ctx.signal, stop.signal]),
    fatal: (error) => isKtxError(error) && error.code === 'KTX_LEASE_LOST',
    onDegraded: (error) => {
      ctx.log.warn('Tunnel to the shadow pod lost; rebuilding it', { error: messageOf(error) })
      ctx.emit({ type: 'tunnel.degraded', error })
    },
    onAttemptFailed: (error, attempt) => {
      ctx.log.info('Tunnel not back yet', { attempt, error: messageOf(error) })
    },
    onRestored: (link, outage) => {
      ctx.log.info('Tunnel restored', { pod: link.pod, replaced: replacedLast, ...outage })
      ctx.emit({ type: 'tunnel.restored', pod: link.pod, replaced: replacedLast, ...outage })
    },
    giveUp: (last, downMs) =>
      new TunnelError(
        'KTX_TUNNEL_LOST',
        `Lost the tunnel to the shadow pod and could not rebuild it within ${Math.round(downMs / 1000)}s: ${messageOf(last)}`,
        {
          cause: last,
          suggestions: [
            `Check that the cluster answers: kubectl get pods -n ${namespace}`,
            'Allow a longer outage with --reconnectTimeout <seconds>.',
          ],
        },
      ),
  })

  const linkForUse = (what: string, host: string, port: number): Promise<ShadowLink> =>
    healer.ready(DIAL_WAIT_MS).catch((error: unknown) => {
      throw new DialError(`${host}:${port}: ${what}: ${messageOf(error)}`, 'ENOTCONN', { cause: error })
    })
  return {
    get pod() {
      return healer.current.pod
    },
    get podIP() {
      return healer.current.podIP
    },
    get state() {
      return healer.state
    },
    ended: healer.ended,
    onRelink: (hook) => {
      hooks.push(hook)
    },
    async dial(host, port) {
      const link = await linkForUse('the tunnel is reconnecting', host, port)
      return (link.direct ?? link.ssh).dial(host, port)
    },
    async forwardIn(bindAddress, port, handler) {
      const link = await linkForUse('the tunnel is reconnecting', bindAddress, port)
      const bound = await link.ssh.forwardIn(bindAddress, port, handler)
      listeners.set(`${bindAddress}:${bound}`, { bindAddress, port: bound, handler })
      return bound
    },
    async unforwardIn(bindAddress, port) {
      listeners.delete(`${bindAddress}:${port}`)
      // A broken link took its listeners with it; the next one will not get this one back.
      if (healer.state === 'ready') await healer.current.ssh.unforwardIn(bindAddress, port)
    },
    stopHealing: () => {
      stop.abort(new Error('the session is closing'))
    },
    destroy: () => {
      stop.abort(new Error('the session is destroyed'))
      discardLink(healer.current)
    },
  }
}

function leaseLost(name: string, namespace: string): TunnelError {
  return new TunnelError(
    'KTX_LEASE_LOST',
    `The session's Lease ${namespace}/${name} was deleted (by ktx clean or recover --force, or by hand), and its shadow pod with it`,
    { suggestions: ['Run the command again to start a new session.'] },
  )
}

// The setup steps of the first link, each reported.
async function openFirstLink(ctx: SetupContext, plan: LinkPlan): Promise<ShadowLink> {
  const pod = plan.spec.name
  const created = await ctx.step('shadow.create', () => createLinkPod(plan, pod, ctx.signal), pod)
  const podIP = await ctx.step('shadow.ready', () =>
    waitLinkPodReady(plan, pod, { created, timeoutMs: plan.timeouts.podReadyMs }, ctx.signal),
  )
  return connectLink(plan, pod, podIP, ctx.signal, {
    portForward: (run) => ctx.step('port-forward.open', run),
    ssh: (run) => ctx.step('ssh.connect', run),
  })
}

/**
 * After the tunnel moved to a new shadow pod, waits until `service`'s endpoints hold it, so the
 * session reports `ready` when cluster callers reach it again. Slow endpoints are a warning, not a
 * failed rebuild: the pod is right, the cluster is only late.
 */
export function followIntoService(
  ctx: Pick<SetupContext, 'emit'>,
  kube: Kube,
  tunnel: Pick<ShadowTunnel, 'onRelink'>,
  options: { readonly service: string; readonly timeoutMs: number },
): void {
  tunnel.onRelink(async (link, replaced, signal) => {
    if (!replaced) return
    await waitServiceEndpoints(kube, {
      service: options.service,
      until: (ips) => ips.has(link.podIP),
      awaited: `include the new shadow pod (${link.podIP})`,
      timeoutMs: options.timeoutMs,
      signal,
    }).catch((error: unknown) => {
      if (signal.aborted) throw error
      ctx.emit({ type: 'warning', message: `Service ${options.service}: ${messageOf(error)}` })
    })
  })
}
