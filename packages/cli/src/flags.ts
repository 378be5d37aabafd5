import { Flags } from '@oclif/core'
import { type ConnectOptions, parsePort } from '@ktx/core'

/** Flags every command shares (ktctl's names). */
export const kubeFlags = {
  kubeconfig: Flags.string({ char: 'c', description: 'Path of the kubeconfig file.', env: 'KTX_KUBECONFIG' }),
  context: Flags.string({
    description: "Kubeconfig context to use (default: the kubeconfig's current one).",
  }),
  namespace: Flags.string({
    char: 'n',
    description: "Namespace for ktx's objects (default: the context's namespace, then default).",
    env: 'KTX_NAMESPACE',
  }),
  image: Flags.string({ char: 'i', description: 'Image of the shadow pod agent.', env: 'KTX_IMAGE' }),
  podCreationTimeout: Flags.integer({
    description: 'Seconds to wait for the shadow pod to become Ready.',
    aliases: ['pod-creation-timeout'],
    min: 1,
  }),
  debug: Flags.boolean({ char: 'd', description: 'Print debug output.', default: false }),
}

/** Flags of `ktx connect`. */
export const connectFlags = {
  mode: Flags.string({
    description: 'How to connect: socks (no root; SOCKS5 + HTTP proxy).',
    options: ['socks'],
    default: 'socks',
  }),
  socksPort: Flags.string({
    description: 'Local SOCKS5 port (0: any free port).',
    aliases: ['socks-port'],
    default: '0',
    env: 'KTX_SOCKS_PORT',
  }),
  httpPort: Flags.string({
    description: 'Local HTTP proxy port (0: any free port).',
    aliases: ['http-port'],
    default: '0',
    env: 'KTX_HTTP_PORT',
  }),
}

/** Parsed flag values of `ktx connect`. */
export interface ConnectFlagValues {
  readonly kubeconfig?: string | undefined
  readonly context?: string | undefined
  readonly namespace?: string | undefined
  readonly image?: string | undefined
  readonly podCreationTimeout?: number | undefined
  readonly mode: string
  readonly socksPort: string
  readonly httpPort: string
}

/**
 * Maps parsed flags to {@link ConnectOptions} (pure). Unset flags stay unset so core's defaults
 * (and the context's namespace) apply.
 * @throws UsageError for a bad port.
 */
export function toConnectOptions(flags: ConnectFlagValues): ConnectOptions {
  const kube = {
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
  }
  return {
    mode: flags.mode as 'socks',
    kube,
    ...(flags.image === undefined ? {} : { image: flags.image }),
    socks: { port: parsePort('--socksPort', flags.socksPort) },
    http: { port: parsePort('--httpPort', flags.httpPort) },
    ...(flags.podCreationTimeout === undefined
      ? {}
      : { timeouts: { podReadyMs: flags.podCreationTimeout * 1000 } }),
  }
}
