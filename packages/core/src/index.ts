/**
 * `@ktx/core`: ktx as a library. Verbs return session handles; core never prints, exits or
 * handles signals. Building blocks live in `@ktx/core/kube`, `@ktx/core/tunnel` and
 * `@ktx/core/contract`.
 */
import { withQuietClean } from './modes/clean/quiet.js'
import { type ConnectSession, connect as connectVerb } from './modes/connect.js'
import type { ConnectOptions } from './modes/connect/options.js'
import { type ExchangeSession, exchange as exchangeVerb } from './modes/exchange.js'
import type { ExchangeOptions } from './modes/exchange/options.js'
import { type MeshSession, mesh as meshVerb } from './modes/mesh.js'
import type { MeshOptions } from './modes/mesh/options.js'
import { type PreviewSession, preview as previewVerb } from './modes/preview.js'
import type { PreviewOptions } from './modes/preview/options.js'

// Each verb, once ready, reaps what dead sessions left in its namespace (modes/clean/quiet.ts).

/** {@link connectVerb}, then the namespace's quiet clean. */
export const connect = (options: ConnectOptions = {}): Promise<ConnectSession> =>
  withQuietClean(connectVerb, options)
/** {@link exchangeVerb}, then the namespace's quiet clean. */
export const exchange = (options: ExchangeOptions): Promise<ExchangeSession> =>
  withQuietClean(exchangeVerb, options)
/** {@link meshVerb}, then the namespace's quiet clean. */
export const mesh = (options: MeshOptions): Promise<MeshSession> => withQuietClean(meshVerb, options)
/** {@link previewVerb}, then the namespace's quiet clean. */
export const preview = (options: PreviewOptions): Promise<PreviewSession> =>
  withQuietClean(previewVerb, options)
export type { ConnectSession, ExchangeSession, MeshSession, PreviewSession }
export { quietClean } from './modes/clean/quiet.js'
export {
  type ExchangeOptions,
  type ExchangeTarget,
  type ExchangeTimeouts,
  type ResolvedExchangeOptions,
  parseTarget,
  resolveExchangeOptions,
} from './modes/exchange/options.js'
export {
  type MeshMode,
  type MeshOptions,
  type MeshTimeouts,
  type ResolvedMeshOptions,
  resolveMeshOptions,
} from './modes/mesh/options.js'
export { type VersionMark, parseVersionMark } from './modes/mesh/mark.js'
export {
  type PreviewOptions,
  type PreviewTimeouts,
  type ResolvedPreviewOptions,
  checkServiceName,
  resolvePreviewOptions,
} from './modes/preview/options.js'
export { type PortMapping, parseExpose } from './modes/shared/expose.js'
export { type RecoverOptions, recover } from './modes/recover.js'
export {
  type ClusterSessionStatus,
  type ClusterStatusOptions,
  type ClusterStatusReport,
  type HeldService,
  type LocalSessionStatus,
  type LocalStatusReport,
  type SessionFacts,
  clusterStatus,
  localStatus,
  trackLocalSession,
} from './modes/status.js'
export type { LocalSessionFile, LocalSessionRecord } from './host/local-sessions.js'
export {
  type BuildImageOptions,
  type BuiltImage,
  type PushImageOptions,
  type PushedImage,
  buildShadowImage,
  imageRefFor,
  pushShadowImage,
} from './modes/image.js'
// Everything that needs no cluster, also importable alone as `@ktx/core/local`.
export * from './local.js'
export { PUSH_TOOLS, type PushTool, type ToolProbe } from './image/push-tools.js'
export { type ImageRuntime, shadowImageRuntime } from './image/runtime.js'
export { type SshCryptoChoice } from './image/ssh-crypto.js'
export type { RecoverReport } from './modes/shared/recover-service.js'
export { type CleanClusterOptions, type CleanClusterReport, cleanCluster } from './modes/clean/cluster.js'
export { type CleanAllNamespacesReport, cleanAllNamespaces } from './modes/clean/all-namespaces.js'
export {
  type BaseOptions,
  DEFAULTS,
  DEFAULT_SHADOW_IMAGE,
  type ListenOptions,
  type ResolvedBaseOptions,
  type Timeouts,
  parsePort,
} from './options.js'
export {
  type ConnectOptions,
  DATA_PATHS,
  type DataPath,
  type ResolvedConnectOptions,
  resolveConnectOptions,
} from './modes/connect/options.js'
export type { ProxyEndpoint, Session, SessionEnd } from './session.js'
export { type ProxyCredentials, urlWithCredentials } from './tunnel/proxy-auth.js'
export type { EventHandler, SessionEvent, StepId } from './events.js'
export { type LogFields, type Logger, noopLogger } from './logger.js'
export {
  CleanupError,
  ConfigError,
  ConflictError,
  type ErrorCategory,
  HostError,
  KtxError,
  type KtxErrorCode,
  type KtxErrorOptions,
  KubeApiError,
  PermissionError,
  type ResourceRef,
  TimeoutError,
  TunnelError,
  UsageError,
  exitCodeFor,
  isKtxError,
  messageOf,
} from './errors.js'
export {
  CleanupStack,
  type CleanupStackOptions,
  type DeferOptions,
  type UndoFn,
  type UnwindContext,
} from './util/cleanup-stack.js'
export type { KubeOptions } from './kube/kubeconfig.js'
export { MANAGED_SELECTOR } from './contract.js'
export type { TunInfo } from './modes/tun/layer.js'
export { type RoutePlanReport, planConnectRoutes } from './modes/connect/dry-run.js'
export {
  type DnsMode,
  type DnsOptions,
  type ResolvedDnsOptions,
  type ResolvedTunOptions,
  TUN_DEFAULTS,
  type TunOptions,
} from './modes/tun/options.js'
export { type CleanLocalOptions, type CleanLocalReport, cleanLocal } from './modes/clean/host.js'
export type { ReplayReport, ReplayedSession } from './host/undo.js'
export { defaultStateDir } from './host/state-dir.js'
