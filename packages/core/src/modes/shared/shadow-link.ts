/**
 * One link of a session to its agent: the shadow pod, a port-forward to the agent's SSH port and
 * the SSH connection over it. The first is made during setup; when one breaks, the next reuses the
 * pod if it is still there and Ready again (the API server or the kubelet restarted, the network
 * was cut) and replaces it otherwise (deleted, failed, stuck).
 */
import { AGENT_SSH_PORT, AGENT_SSH_USER } from '../../contract.js'
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
import type { SessionKeyPair } from '../../tunnel/keys.js'
import { type SshConnection, openSsh } from '../../tunnel/ssh.js'

/** The pod, port-forward and SSH connection serving a session right now. */
export interface ShadowLink {
  readonly pod: string
  /** The pod's IP once Ready. */
  readonly podIP: string
  readonly forward: PortForwardStream
  readonly ssh: SshConnection
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

/** Cuts a link's connections at once. */
export function discardLink(link: ShadowLink): void {
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
  const forward = await openPortForwardToAgent(plan, pod, signal)
  try {
    const ssh = await openSshToAgent(plan, forward, signal)
    return { link: { pod, podIP: podIP ?? '', forward, ssh }, replaced }
  } catch (error) {
    forward.destroy()
    throw error
  }
}
