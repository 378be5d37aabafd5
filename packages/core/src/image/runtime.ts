/**
 * How the shadow agent's image runs: entrypoint, user, working directory, environment and ports.
 * The one definition both builds follow: the offline OCI build (`ktx image build`) writes it into
 * the image config, and `packages/shadow-image/Dockerfile` states the same (a unit test compares
 * them), so a pushed Docker build and an offline build behave alike in the pod.
 */
import { AGENT_ENV, AGENT_HEALTH_PORT, AGENT_SSH_PORT } from '../contract.js'

/** The runtime fields of an OCI image config that ktx sets. */
export interface ImageRuntime {
  readonly entrypoint: readonly string[]
  readonly cmd: readonly string[]
  /** `uid:gid`; nobody, matching the pod's runAsUser. */
  readonly user: string
  readonly workingDir: string
  /** `KEY=value`, without PATH (base images bring their own). */
  readonly env: readonly string[]
  /** `port/tcp`. */
  readonly exposedPorts: readonly string[]
}

/** Where the bundle lives in the image, and the Node binary that runs it. */
export const AGENT_BUNDLE_PATH = '/agent.mjs'
export const IMAGE_NODE_PATH = '/usr/local/bin/node'
/**
 * Where ssh2's optional native crypto addon goes: the bundle keeps ssh2's
 * `require('./crypto/build/Release/sshcrypto.node')`, which resolves next to the bundle. Without
 * it ssh2 falls back to Node's crypto API per packet, which measured about twice the agent's CPU
 * per GB moved.
 */
export const SSH_CRYPTO_ADDON_PATH = '/crypto/build/Release/sshcrypto.node'

/** The shadow image's runtime (pure). */
export function shadowImageRuntime(): ImageRuntime {
  return {
    entrypoint: [IMAGE_NODE_PATH, AGENT_BUNDLE_PATH],
    cmd: [],
    user: '65534:65534',
    workingDir: '/',
    env: [`${AGENT_ENV.sshPort}=${AGENT_SSH_PORT}`, `${AGENT_ENV.healthPort}=${AGENT_HEALTH_PORT}`],
    exposedPorts: [`${AGENT_HEALTH_PORT}/tcp`],
  }
}
