/**
 * `connect({ mode: 'socks' })`: this machine reaches cluster Pod IPs, ClusterIPs and DNS names
 * through local SOCKS5 and HTTP proxies.
 *
 * Setup, each step's undo registered the moment it succeeds:
 *   kube client → session Lease (renewed) → shadow pod (owned by the Lease) → pod Ready (watched)
 *   → port-forward WebSocket to the agent's SSH port → SSH handshake → SOCKS5 → HTTP proxy.
 * Teardown runs the same list backwards: HTTP proxy, SOCKS5, SSH, port-forward, delete the pod
 * (and wait until it is gone), delete the Lease. If any setup step fails, everything already made
 * is removed before the error is thrown.
 */
import { randomBytes } from 'node:crypto'
import type { Agent as HttpAgent } from 'node:http'
import type { Agent as HttpsAgent } from 'node:https'

import { type Dispatcher, ProxyAgent } from 'undici'

import { CleanupStack } from '../cleanup/stack.js'
import { AGENT_SSH_PORT, AGENT_SSH_USER } from '../contract.js'
import { isKtxError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { SessionEvent, StepId } from '../events.js'
import { type Kube, createKube, isKube } from '../kube/client.js'
import { createSessionLease } from '../kube/lease.js'
import { openPortForward } from '../kube/port-forward.js'
import { createShadowPod, deletePodAndWait, waitPodReady } from '../kube/shadow.js'
import { type ConnectOptions, type ResolvedConnectOptions, resolveConnectOptions } from '../options.js'
import type { ProxyEndpoint, Session } from '../session.js'
import { buildSession } from './connect-session.js'
import { generateSessionKey } from '../tunnel/keys.js'
import { startHttpProxy } from '../tunnel/http-proxy.js'
import { startSocks5 } from '../tunnel/socks5.js'
import { openSsh } from '../tunnel/ssh.js'
import { TunnelHttpAgent, TunnelHttpsAgent } from '../tunnel/tunnel-agent.js'

/** A ready `connect` session. Close it (or `await using` it) to remove everything it made. */
export interface ConnectSession extends Session {
  /** The SOCKS5 proxy (`socks5h://`: names resolve in the cluster). */
  readonly socks: ProxyEndpoint
  /** The HTTP proxy (CONNECT and absolute-URI requests). */
  readonly http: ProxyEndpoint
  /** Name of the shadow pod. */
  readonly pod: string
  /** An `http.Agent` whose requests go through the session. */
  readonly httpAgent: HttpAgent
  /** An `https.Agent` whose requests go through the session (TLS end to end). */
  readonly httpsAgent: HttpsAgent
  /** An undici dispatcher (ProxyAgent on the HTTP proxy) for `fetch(url, { dispatcher })`. */
  readonly dispatcher: Dispatcher
}

/**
 * Connects this machine to the cluster network in SOCKS mode. Resolves once the proxies accept
 * connections; rejects after removing whatever it had created.
 * @throws UsageError / ConfigError (kubeconfig, context, missing namespace) / PermissionError
 *   (RBAC, naming verb and resource) / TunnelError `KTX_KUBE_UNREACHABLE` / KubeApiError
 *   (`KTX_SHADOW_IMAGE_PULL`, `KTX_SHADOW_CRASHED`) / TimeoutError `KTX_SHADOW_NOT_READY` /
 *   TunnelError (port-forward, SSH) / HostError `KTX_LISTEN_FAILED`, or `signal.reason` if aborted.
 */
export async function connect(options: ConnectOptions = {}): Promise<ConnectSession> {
  const opts = resolveConnectOptions(options)
  const id = randomBytes(4).toString('hex')
  const log = opts.logger.child({ session: id })
  const emit = safeEmitter(opts, log)
  const internal = new AbortController()
  const stack = new CleanupStack({
    stepTimeoutMs: opts.timeouts.cleanupStepMs,
    onStep: (name) => {
      emit({ type: 'cleanup.step', name })
    },
    onError: (name, error) => {
      emit({ type: 'cleanup.failed', name, error })
    },
  })
  const setupSignal = AbortSignal.any([internal.signal, ...(opts.signal ? [opts.signal] : [])])

  const step = async <T>(id: StepId, fn: () => Promise<T>, detail?: string): Promise<T> => {
    // Checked between steps too, so an abort never starts the next cluster write.
    setupSignal.throwIfAborted()
    emit({ type: 'step.start', step: id, ...(detail ? { detail } : {}) })
    try {
      const value = await fn()
      emit({ type: 'step.done', step: id })
      return value
    } catch (error) {
      emit({ type: 'step.fail', step: id, error })
      throw error
    }
  }

  try {
    const kube: Kube = await step('kube.connect', () =>
      Promise.resolve(
        isKube(opts.kube)
          ? opts.kube
          : createKube({ ...opts.kube, requestTimeoutMs: opts.timeouts.kubeRequestMs }),
      ),
    )
    const namespace = kube.namespace
    log.info('Connecting', { context: kube.context, namespace, server: kube.server })
    const keys = generateSessionKey(`ktx-${id}`)

    const lease = await step('lease.create', () =>
      createSessionLease(kube, {
        name: `ktx-${id}`,
        sessionId: id,
        owner: opts.owner,
        durationSeconds: opts.leaseDurationSeconds,
        logger: log,
        onRenewFailed: (error) => {
          emit({ type: 'heartbeat.failed', error })
        },
        signal: setupSignal,
      }),
    )
    stack.defer('delete lease', (signal) => lease.close(signal), {
      leftover: { kind: 'Lease', name: lease.name, namespace },
    })

    const podName = `ktx-shadow-${id}`
    const created = await step(
      'shadow.create',
      () =>
        createShadowPod(
          kube,
          {
            name: podName,
            namespace,
            sessionId: id,
            owner: opts.owner,
            image: opts.image,
            authorizedKey: keys.publicKey,
            ownerReference: lease.ownerReference,
          },
          setupSignal,
        ),
      podName,
    )
    stack.defer('delete shadow pod', (signal) => deletePodAndWait(kube, podName, signal), {
      leftover: { kind: 'Pod', name: podName, namespace },
    })

    await step('shadow.ready', () =>
      waitPodReady(kube, {
        name: podName,
        image: opts.image,
        timeoutMs: opts.timeouts.podReadyMs,
        created,
        signal: setupSignal,
        logger: log,
      }),
    )

    const forward = await step('port-forward.open', () =>
      openPortForward(kube, {
        pod: podName,
        port: AGENT_SSH_PORT,
        timeoutMs: opts.timeouts.portForwardMs,
        signal: setupSignal,
      }),
    )
    stack.defer('close port-forward', () => forward.close())

    const ssh = await step('ssh.connect', () =>
      openSsh({
        sock: forward,
        username: AGENT_SSH_USER,
        privateKey: keys.privateKey,
        readyTimeoutMs: opts.timeouts.sshHandshakeMs,
        signal: setupSignal,
        logger: log,
      }),
    )
    stack.defer('close ssh', () => ssh.close())

    const socks = await step('socks.listen', () =>
      startSocks5({ dialer: ssh, host: opts.socks.host, port: opts.socks.port, logger: log }),
    )
    stack.defer('stop socks5 proxy', () => socks.close())
    const http = await step('http.listen', () =>
      startHttpProxy({ dialer: ssh, host: opts.http.host, port: opts.http.port, logger: log }),
    )
    stack.defer('stop http proxy', () => http.close())

    const httpAgent = new TunnelHttpAgent(socks)
    const httpsAgent = new TunnelHttpsAgent(socks)
    const dispatcher = new ProxyAgent(http.url)
    stack.defer('close agents', async () => {
      httpAgent.destroy()
      httpsAgent.destroy()
      await dispatcher.close()
    })
    emit({ type: 'step.done', step: 'ready' })

    return buildSession(
      { id, namespace, pod: podName, socks, http, httpAgent, httpsAgent, dispatcher },
      {
        stack,
        internal,
        lease,
        ssh,
        forward,
        signal: opts.signal,
        emit,
        log,
      },
    )
  } catch (error) {
    internal.abort()
    await stack.unwind().catch((cleanupError: unknown) => {
      log.error('Cleanup after a failed setup was incomplete', { error: messageOf(cleanupError) })
    })
    if (opts.signal?.aborted) throw opts.signal.reason
    throw error
  }
}

function safeEmitter(opts: ResolvedConnectOptions, log: Logger) {
  return (event: SessionEvent): void => {
    try {
      opts.onEvent(event)
    } catch (error) {
      log.warn('onEvent handler threw; ignored', { error: isKtxError(error) ? error.code : messageOf(error) })
    }
  }
}
