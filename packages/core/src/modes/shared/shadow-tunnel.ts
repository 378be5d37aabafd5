/**
 * The steps every mode with a shadow pod shares, each registering its undo the moment it succeeds:
 *   kube client → session Lease (renewed) → … → shadow pod (owned by the Lease) → pod Ready
 *   (watched) → port-forward WebSocket to the agent's SSH port → SSH handshake.
 * The lease and the tunnel are separate calls so a mode can do its own work in between (exchange
 * takes its Service lock, which names the lease, before it makes the pod).
 */
import { AGENT_SSH_PORT, AGENT_SSH_USER } from '../../contract.js'
import { type Kube, createKube, isKube } from '../../kube/client.js'
import type { KubeOptions } from '../../kube/kubeconfig.js'
import { type SessionLease, createSessionLease } from '../../kube/lease.js'
import { openPortForward } from '../../kube/port-forward.js'
import { createShadowPod, deletePod, waitPodGone, waitPodReady } from '../../kube/shadow.js'
import type { ShadowSpec } from '../../kube/shadow-spec.js'
import type { PortForwardStream } from '../../kube/port-forward-stream.js'
import type { Timeouts } from '../../options.js'
import { type SessionKeyPair, generateSessionKey } from '../../tunnel/keys.js'
import { type SshConnection, openSsh } from '../../tunnel/ssh.js'
import type { SetupContext } from './setup.js'

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

/** The shadow pod and the SSH connection to its agent. */
export interface ShadowTunnel {
  readonly pod: string
  /** The pod's IP once Ready. */
  readonly podIP: string
  readonly forward: PortForwardStream
  readonly ssh: SshConnection
}

/** Everything of a {@link ShadowSpec} but what the session already knows. */
export type ShadowPodSpec = Omit<ShadowSpec, 'namespace' | 'sessionId' | 'authorizedKey' | 'ownerReferences'>

/**
 * Creates the shadow pod (owned by `lease`), waits until it is Ready, opens the port-forward and
 * the SSH connection. Steps `shadow.create`, `shadow.ready`, `port-forward.open`, `ssh.connect`.
 */
export async function openShadowTunnel(
  ctx: SetupContext,
  kube: Kube,
  lease: SessionLease,
  options: { readonly spec: ShadowPodSpec; readonly timeouts: Timeouts; readonly keys?: SessionKeyPair },
): Promise<ShadowTunnel> {
  const { spec, timeouts } = options
  const namespace = kube.namespace
  const keys = options.keys ?? generateSessionKey(`ktx-${ctx.id}`)
  const pod = spec.name
  const created = await ctx.step(
    'shadow.create',
    () =>
      createShadowPod(
        kube,
        {
          ...spec,
          namespace,
          sessionId: ctx.id,
          authorizedKey: keys.publicKey,
          // controller: true keeps workload controllers from adopting a pod that carries their labels.
          ownerReferences: [{ ...lease.ownerReference, controller: true }],
        },
        ctx.signal,
      ),
    pod,
  )
  ctx.stack.defer(
    'delete shadow pod',
    async (signal, unwind) => {
      await deletePod(kube, pod, signal)
      await unwind.wait((waitSignal) => waitPodGone(kube, pod, waitSignal))
    },
    { leftover: { kind: 'Pod', name: pod, namespace } },
  )

  const ready = await ctx.step('shadow.ready', () =>
    waitPodReady(kube, {
      name: pod,
      image: spec.image,
      timeoutMs: timeouts.podReadyMs,
      created,
      signal: ctx.signal,
      logger: ctx.log,
    }),
  )

  const forward = await ctx.step('port-forward.open', () =>
    openPortForward(kube, {
      pod,
      port: spec.sshPort ?? AGENT_SSH_PORT,
      timeoutMs: timeouts.portForwardMs,
      signal: ctx.signal,
    }),
  )
  ctx.stack.defer('close port-forward', () => forward.close())

  const ssh = await ctx.step('ssh.connect', () =>
    openSsh({
      sock: forward,
      username: AGENT_SSH_USER,
      privateKey: keys.privateKey,
      readyTimeoutMs: timeouts.sshHandshakeMs,
      signal: ctx.signal,
      logger: ctx.log,
    }),
  )
  ctx.stack.defer('close ssh', () => ssh.close())
  return { pod, podIP: ready.status?.podIP ?? '', forward, ssh }
}
