/**
 * One link of a session to its agent: the shadow pod, a port-forward to the agent's SSH port, the
 * SSH connection over it and, for sessions that dial out, the direct data path beside it. The first is made during setup; when one breaks, the next reuses the
 * pod if it is still there and Ready again (the API server or the kubelet restarted, the network
 * was cut) and replaces it otherwise (deleted, failed, stuck).
 */
import { AGENT_DIRECT_PORT, AGENT_SSH_PORT, AGENT_SSH_USER } from '../../contract.js'
import { messageOf } from '../../errors.js'
import type { Kube } from '../../kube/client.js'
import type { SessionLease } from '../../kube/lease.js'
import { judgePod } from '../../kube/pod-status.js'
import { openPortForward } from '../../kube/port-forward.js'
import type { PortForwardStream } from '../../kube/port-forward-stream.js'
import { createShadowPod, deletePod, readPod, waitPodReady } from '../../kube/shadow.js'
import type { ShadowSpec } from '../../kube/shadow-spec.js'
import type { Logger } from '../../logger.js'
import type { Timeouts } from '../../options.js'
import { type DirectDialer, createDirectDialer } from '../../tunnel/direct-dialer.js'
import { type SessionKeyPair, sessionSigner } from '../../tunnel/keys.js'
import { type SshConnection, openSsh } from '../../tunnel/ssh.js'

/** The pod, port-forward and SSH connection serving a session right now. */
export interface ShadowLink {
  readonly pod: string
  /** The pod's IP once Ready. */
  readonly podIP: string
  readonly forward: PortForwardStream
  readonly ssh: SshConnection
  /** Dials over one port-forward each, SSH only as the fallback; absent for SSH-only sessions. */
  readonly direct: DirectDialer | undefined
}

/** Everything of a {@link ShadowSpec} but what the session already knows. */
export type ShadowPodSpec = Omit<ShadowSpec, 'namespace' | 'sessionId' | 'authorizedKey' | 'ownerReferences'>

/** What every link of one session shares. */
export interface LinkPlan {
  readonly kube: Kube
  readonly sessionId: string
  readonly lease: SessionLease
  readonly spec: ShadowPodSpec
  readonly keys: SessionKeyPair
  readonly timeouts: Timeouts
  /** Dial out over the direct data path (connect); other verbs only listen, over SSH. */
  readonly directPath: boolean
  readonly log: Logger
  /** Called with each pod name just before it is created, so its undo covers it even if the reply is lost. */
  readonly onPodNamed: (name: string) => void
}

/** Creates a shadow pod of the plan named `name` (owned by the session's Lease). */
export function createLinkPod(
  plan: LinkPlan,
  name: string,
  signal: AbortSignal,
): ReturnType<typeof createShadowPod> {
  plan.onPodNamed(name)
  return createShadowPod(
    plan.kube,
    {
      ...plan.spec,
      name,
      namespace: plan.kube.namespace,
      sessionId: plan.sessionId,
      authorizedKey: plan.keys.publicKey,
      // controller: true keeps workload controllers from adopting a pod that carries their labels.
      ownerReferences: [{ ...plan.lease.ownerReference, controller: true }],
    },
    signal,
  )
}

/** Watches `name` until Ready (bounded by `timeoutMs`) and returns its IP. */
export async function waitLinkPodReady(
  plan: LinkPlan,
  name: string,
  options: { readonly created?: Parameters<typeof waitPodReady>[1]['created']; readonly timeoutMs: number },
  signal: AbortSignal,
): Promise<string> {
  const ready = await waitPodReady(plan.kube, {
    name,
    image: plan.spec.image,
    timeoutMs: options.timeoutMs,
    ...(options.created ? { created: options.created } : {}),
    signal,
    logger: plan.log,
  })
  return ready.status?.podIP ?? ''
}

/** Opens the port-forward to the agent's SSH port and the SSH connection over it. */
export async function openPortForwardToAgent(
  plan: LinkPlan,
  pod: string,
  signal: AbortSignal,
): Promise<PortForwardStream> {
  return openPortForward(plan.kube, {
    pod,
    port: plan.spec.sshPort ?? AGENT_SSH_PORT,
    timeoutMs: plan.timeouts.portForwardMs,
    signal,
  })
}

/** The SSH handshake with the agent over `forward`, with the session's key. */
export function openSshToAgent(
  plan: LinkPlan,
  forward: PortForwardStream,
  signal: AbortSignal,
): Promise<SshConnection> {
  return openSsh({
    sock: forward,
    username: AGENT_SSH_USER,
    privateKey: plan.keys.privateKey,
    readyTimeoutMs: plan.timeouts.sshHandshakeMs,
    signal,
    logger: plan.log,
  })
}

// Connections the direct path keeps greeted ahead of use: one per concurrent new connection.
const DIRECT_SPARES = 4

/**
 * The direct data path to the agent in `pod`, once its first connection was greeted; undefined
 * (every dial over SSH, with a warning) when the agent does not serve it.
 */
export async function openDirectPath(
  plan: LinkPlan,
  pod: string,
  ssh: SshConnection,
  signal: AbortSignal,
): Promise<DirectDialer | undefined> {
  if (!plan.directPath) return undefined
  const direct = createDirectDialer({
    // Not `signal`: that one bounds this set-up (a rebuild's ends with its budget), while the
    // port-forwards are opened for as long as the link lives; close() ends them.
    open: () =>
      openPortForward(plan.kube, { pod, port: AGENT_DIRECT_PORT, timeoutMs: plan.timeouts.portForwardMs }),
    sign: sessionSigner(plan.keys.privateKey),
    fallback: ssh,
    spare: DIRECT_SPARES,
    handshakeTimeoutMs: plan.timeouts.sshHandshakeMs,
    log: plan.log.child({ component: 'direct' }),
  })
  let onAbort = (): void => undefined
  const abandoned = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([direct.proven, abandoned]).finally(() => signal.removeEventListener('abort', onAbort))
    plan.log.info('Direct data path ready', { pod })
    return direct
  } catch (error) {
    direct.close()
    if (signal.aborted) throw error
    // Until the next rebuild: an older agent has no direct port, or its first greeting failed.
    plan.log.warn('No direct data path to the shadow agent; every connection goes over SSH', {
      pod,
      error: messageOf(error),
    })
    return undefined
  }
}

/** Closes the link's direct path, logging how its dials went. */
export function closeDirectPath(link: ShadowLink, log: Logger): void {
  if (link.direct === undefined) return
  log.info('Direct data path closed', { pod: link.pod, dials: link.direct.dials })
  link.direct.close()
}

/** Cuts a link's connections at once. */
export function discardLink(link: ShadowLink): void {
  link.direct?.close()
  link.ssh.destroy()
  link.forward.destroy()
}

// A pod that is gone for good: deleted (or being deleted), failed, or crashing on its image.
function unusable(pod: Awaited<ReturnType<typeof readPod>>, image: string): boolean {
  return (
    pod === undefined ||
    pod.metadata?.deletionTimestamp !== undefined ||
    judgePod(pod, image).state === 'failed'
  )
}

/**
 * The next link after the one over `previousPod` broke (the newest pod made, so a pod an earlier
 * failed attempt created is reused or deleted, never orphaned): the same pod when it is (or becomes) Ready within
 * `reuseWaitMs`, else a new pod named `nextName`. `replaced` tells which.
 */
export async function rebuildLink(
  plan: LinkPlan,
  previousPod: string,
  options: { readonly nextName: () => string; readonly reuseWaitMs: number },
  signal: AbortSignal,
): Promise<{ readonly link: ShadowLink; readonly replaced: boolean }> {
  const existing = await readPod(plan.kube, previousPod, signal)
  let pod = previousPod
  let podIP: string | undefined
  if (!unusable(existing, plan.spec.image)) {
    podIP = await waitLinkPodReady(
      plan,
      pod,
      { created: existing, timeoutMs: options.reuseWaitMs },
      signal,
    ).catch((error: unknown) => {
      if (signal.aborted) throw error
      plan.log.warn('Shadow pod did not become Ready again; replacing it', { pod, error: messageOf(error) })
      return undefined
    })
  }
  const replaced = podIP === undefined
  if (replaced) {
    if (existing !== undefined) {
      // Not awaited: the new pod need not wait for the old one's grace period.
      deletePod(plan.kube, pod).catch((error: unknown) => {
        plan.log.debug('Deleting the old shadow pod failed', { pod, error: messageOf(error) })
      })
    }
    pod = options.nextName()
    plan.log.info('Creating a new shadow pod', { pod, previous: previousPod })
    const created = await createLinkPod(plan, pod, signal)
    podIP = await waitLinkPodReady(plan, pod, { created, timeoutMs: plan.timeouts.podReadyMs }, signal)
  }
  return { link: await connectLink(plan, pod, podIP ?? '', signal), replaced }
}

/** Port-forward, SSH and direct path to the agent of a Ready pod; nothing left open on failure. */
export async function connectLink(
  plan: LinkPlan,
  pod: string,
  podIP: string,
  signal: AbortSignal,
  steps: LinkSteps = plainSteps,
): Promise<ShadowLink> {
  const forward = await steps.portForward(() => openPortForwardToAgent(plan, pod, signal))
  let ssh: SshConnection | undefined
  try {
    ssh = await steps.ssh(() => openSshToAgent(plan, forward, signal))
    const direct = await openDirectPath(plan, pod, ssh, signal)
    return { pod, podIP, forward, ssh, direct }
  } catch (error) {
    ssh?.destroy()
    forward.destroy()
    throw error
  }
}

/** How the first link reports its steps; rebuilds run them unreported. */
export interface LinkSteps {
  portForward(run: () => Promise<PortForwardStream>): Promise<PortForwardStream>
  ssh(run: () => Promise<SshConnection>): Promise<SshConnection>
}

const plainSteps: LinkSteps = { portForward: (run) => run(), ssh: (run) => run() }
