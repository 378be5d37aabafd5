import type { IncomingMessage } from 'node:http'
import WebSocket, { type ClientOptions } from 'ws'

import { KubeApiError, type KtxError, PermissionError, TunnelError, messageOf } from '../errors.js'
import type { Kube } from './client.js'
import { unreachable } from './errors.js'
import { DATA_CHANNEL, ERROR_CHANNEL, FrameDecoder, PORT_FORWARD_PROTOCOL } from './port-forward-codec.js'
import { PortForwardStream } from './port-forward-stream.js'

export { PortForwardStream } from './port-forward-stream.js'

/** Options of {@link openPortForwardStream}. */
export interface PortForwardStreamOptions {
  /** Full `ws:`/`wss:` URL of the pod's `portforward` endpoint including `?ports=`. */
  readonly url: string
  /** TLS material, headers and agent for the upgrade request. */
  readonly wsOptions?: ClientOptions
  /** The forwarded port, used in messages. */
  readonly port: number
  /** Upgrade plus the server's first bytes must arrive within this. */
  readonly timeoutMs: number
  readonly signal?: AbortSignal
  /** What the stream leads to, for messages (`pod ns/name`). */
  readonly target: string
}

/**
 * Opens the WebSocket and resolves once the server announced the port on the data channel (the
 * kubelet accepted the forward).
 * @throws PermissionError (403), KubeApiError (other HTTP answers), TunnelError
 *   `KTX_PORT_FORWARD_FAILED` (error channel, closed early, timeout), or `signal.reason`.
 */
export function openPortForwardStream(options: PortForwardStreamOptions): Promise<PortForwardStream> {
  const { url, port, timeoutMs, signal, target } = options
  signal?.throwIfAborted()
  const ws = new WebSocket(url, [PORT_FORWARD_PROTOCOL], {
    perMessageDeflate: false,
    handshakeTimeout: timeoutMs,
    ...options.wsOptions,
  })
  const decoder = new FrameDecoder()
  return new Promise<PortForwardStream>((resolve, reject) => {
    const early: Buffer[] = []
    let errorText = ''
    let settled = false
    const finish = (error: KtxError | Error | undefined): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      ws.removeListener('message', onMessage)
      if (error) {
        ws.terminate()
        reject(error)
        return
      }
      const stream = new PortForwardStream(ws, decoder, target)
      for (const chunk of early) stream.feed(chunk)
      resolve(stream)
    }
    const failed = (message: string, cause?: unknown): TunnelError =>
      new TunnelError(
        'KTX_PORT_FORWARD_FAILED',
        `Port-forward to ${target} port ${port} failed: ${message}`,
        {
          cause,
          suggestions: [
            'Check that the pod is running and ktx may create pods/portforward in its namespace.',
          ],
        },
      )
    const onAbort = (): void => {
      finish(signal?.reason as Error)
    }
    const onMessage = (data: Buffer): void => {
      const frame = decoder.decode(data)
      if (!frame) return
      if (frame.channel === ERROR_CHANNEL && frame.payload.length > 0)
        errorText += frame.payload.toString('utf8')
      if (frame.channel === DATA_CHANNEL && frame.payload.length > 0) early.push(frame.payload)
      if (decoder.portOf(DATA_CHANNEL) !== undefined && errorText === '') finish(undefined)
    }
    const timer = setTimeout(() => {
      finish(failed(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
    ws.on('message', onMessage)
    ws.once('unexpected-response', (request, response: IncomingMessage) => {
      readBody(response).then(
        (body) => {
          request.destroy()
          finish(httpError(response.statusCode ?? 0, body, target, port))
        },
        (error: unknown) => {
          finish(failed(messageOf(error), error))
        },
      )
    })
    ws.once('error', (error) => {
      finish(failed(error.message, error))
    })
    ws.once('close', (code, reason) => {
      finish(failed(errorText || `closed before it was ready (code ${code} ${reason.toString()})`))
    })
  })
}

/**
 * Port-forward to `port` of pod `name` in `kube.namespace`, authenticated with the kubeconfig's
 * TLS client certificate or token.
 * @throws as {@link openPortForwardStream}; `KTX_KUBE_UNREACHABLE` when the API server is down.
 */
export async function openPortForward(
  kube: Kube,
  options: {
    readonly pod: string
    readonly port: number
    readonly timeoutMs: number
    readonly signal?: AbortSignal
  },
): Promise<PortForwardStream> {
  const base = kube.server.replace(/\/+$/, '').replace(/^http/, 'ws')
  const ns = encodeURIComponent(kube.namespace)
  const url = `${base}/api/v1/namespaces/${ns}/pods/${encodeURIComponent(options.pod)}/portforward?ports=${options.port}`
  const wsOptions: ClientOptions = {}
  await kube.config.applyToHTTPSOptions(wsOptions)
  try {
    return await openPortForwardStream({
      url,
      wsOptions,
      port: options.port,
      timeoutMs: options.timeoutMs,
      target: `pod ${kube.namespace}/${options.pod}`,
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code
    if (
      code === 'ECONNREFUSED' ||
      code === 'EHOSTUNREACH' ||
      code === 'ENETUNREACH' ||
      code === 'ETIMEDOUT'
    ) {
      throw unreachable(kube.server, (error as { cause: unknown }).cause)
    }
    throw error
  }
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response) {
    chunks.push(chunk as Buffer)
    if (chunks.length > 64) break
  }
  return Buffer.concat(chunks).toString('utf8')
}

function httpError(status: number, body: string, target: string, port: number): KtxError {
  let message = body.trim()
  try {
    const parsed = JSON.parse(body) as { message?: unknown }
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {
    // Not a Status object; keep the raw text.
  }
  if (status === 401 || status === 403) {
    return new PermissionError(
      status === 401 ? 'KTX_KUBE_UNAUTHORIZED' : 'KTX_KUBE_FORBIDDEN',
      `Not allowed to port-forward to ${target}: ${message || `HTTP ${status}`}`,
      {
        // The upgrade is a GET: v1.33 checks `get`; kubectl's SPDY port-forward (and maybe other
        // API servers) `create`. docs/rbac.md grants both.
        verb: 'get',
        resource: 'pods/portforward',
        suggestions: [
          'Ask for RBAC rights to "get" and "create" on "pods/portforward" (docs/rbac.md).',
          'Check with: kubectl auth can-i get pods/portforward',
        ],
      },
    )
  }
  return new KubeApiError(
    'KTX_PORT_FORWARD_FAILED',
    `Port-forward to ${target} port ${port} refused: HTTP ${status} ${message}`,
    {
      status,
    },
  )
}
