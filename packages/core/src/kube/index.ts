/** Kubernetes building blocks: client, lease, shadow pod, port-forward. */
export {
  type CallOptions,
  type CreateKubeOptions,
  type Kube,
  createKube,
  isKube,
  kubeFromConfig,
} from './client.js'
export { type KubeCallContext, toKubeError } from './errors.js'
export { type KubeOptions, type ResolvedKubeConfig, resolveKubeConfig } from './kubeconfig.js'
export { type KtxRole, sessionAnnotations, sessionLabels, sessionSelector } from './labels.js'
export { type SessionLease, type SessionLeaseOptions, createSessionLease } from './lease.js'
export { type PodVerdict, judgePod } from './pod-status.js'
export {
  PortForwardStream,
  type PortForwardStreamOptions,
  openPortForward,
  openPortForwardStream,
} from './port-forward.js'
export {
  DATA_CHANNEL,
  ERROR_CHANNEL,
  FrameDecoder,
  PORT_FORWARD_PROTOCOL,
  encodeFrame,
} from './port-forward-codec.js'
export { type WaitPodReadyOptions, createShadowPod, deletePodAndWait, waitPodReady } from './shadow.js'
export { AGENT_CONTAINER, type ShadowSpec, buildShadowPod } from './shadow-spec.js'
export {
  type OptionalRbacRule,
  RBAC_PROFILES,
  type RbacProfile,
  type RbacProfileName,
  type RbacRule,
  rbacProfile,
} from './rbac.js'
export { mergeRules, profileMarkdown, roleManifest, rulesYaml } from './rbac-render.js'
