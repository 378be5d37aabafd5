import { AGENT_ENV, AGENT_HEALTH_PORT, AGENT_SSH_PORT } from '@ktx/core/contract'

/** What the agent needs to start. */
export interface AgentConfig {
  /** The only public key allowed to log in (OpenSSH `authorized_keys` form). */
  readonly authorizedKey: string
  /** SSH listens here; loopback so only a port-forward (which needs RBAC) can reach it. */
  readonly sshHost: string
  readonly sshPort: number
  /** The readiness endpoint listens on all interfaces so the kubelet can probe it. */
  readonly healthHost: string
  readonly healthPort: number
}

/** Reads the agent configuration from environment variables; throws a plain Error naming the bad one. */
export function readAgentConfig(env: Readonly<Record<string, string | undefined>>): AgentConfig {
  const authorizedKey = env[AGENT_ENV.authorizedKey]?.trim() ?? ''
  if (authorizedKey === '')
    throw new Error(`${AGENT_ENV.authorizedKey} is not set; it must hold the session public key`)
  return {
    authorizedKey,
    sshHost: '127.0.0.1',
    sshPort: portFrom(env, AGENT_ENV.sshPort, AGENT_SSH_PORT),
    healthHost: '0.0.0.0',
    healthPort: portFrom(env, AGENT_ENV.healthPort, AGENT_HEALTH_PORT),
  }
}

function portFrom(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`${name} must be a port number, got "${raw}"`)
  return port
}
