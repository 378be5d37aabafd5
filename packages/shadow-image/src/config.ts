import {
  AGENT_CONTROL_PORT,
  AGENT_DIRECT_PORT,
  AGENT_ENV,
  AGENT_HEALTH_PORT,
  AGENT_MODES,
  AGENT_SSH_PORT,
  type AgentMode,
  type RouterPortSpec,
  parseRouterPorts,
} from '@ktx/core/contract'

type Env = Readonly<Record<string, string | undefined>>

/** What every agent needs to start: the SSH server and the health endpoint. */
export interface BaseAgentConfig {
  /** The only public key allowed to log in (OpenSSH `authorized_keys` form). */
  readonly authorizedKey: string
  /** SSH listens here; loopback so only a port-forward (which needs RBAC) can reach it. */
  readonly sshHost: string
  readonly sshPort: number
  /** The direct data path listens here; loopback for the same reason. */
  readonly directHost: string
  readonly directPort: number
  /** The readiness endpoint listens on all interfaces so the kubelet can probe it. */
  readonly healthHost: string
  readonly healthPort: number
}

/** The shadow pod of connect/exchange/preview: SSH and health only. */
export interface ShadowAgentConfig extends BaseAgentConfig {
  readonly mode: 'shadow'
}

/** The router pod of `ktx mesh`: SSH and health, plus the header router and its control endpoint. */
export interface RouterAgentConfig extends BaseAgentConfig {
  readonly mode: 'router'
  /** The routed ports listen on all interfaces: the Service's traffic arrives from other pods. */
  readonly routerHost: string
  readonly routerPorts: readonly RouterPortSpec[]
  /** Loopback, like SSH: only a port-forward or the session's SSH connection reaches it. */
  readonly controlHost: string
  readonly controlPort: number
}

/** What the agent needs to start, by {@link AgentMode}. */
export type AgentConfig = ShadowAgentConfig | RouterAgentConfig

/** Reads the agent configuration from environment variables; throws a plain Error naming the bad one. */
export function readAgentConfig(env: Env): AgentConfig {
  const authorizedKey = env[AGENT_ENV.authorizedKey]?.trim() ?? ''
  if (authorizedKey === '')
    throw new Error(`${AGENT_ENV.authorizedKey} is not set; it must hold the session public key`)
  const base: BaseAgentConfig = {
    authorizedKey,
    sshHost: '127.0.0.1',
    sshPort: portFrom(env, AGENT_ENV.sshPort, AGENT_SSH_PORT),
    directHost: '127.0.0.1',
    directPort: portFrom(env, AGENT_ENV.directPort, AGENT_DIRECT_PORT),
    healthHost: '0.0.0.0',
    healthPort: portFrom(env, AGENT_ENV.healthPort, AGENT_HEALTH_PORT),
  }
  const mode = modeFrom(env)
  switch (mode) {
    case 'shadow':
      return { ...base, mode }
    case 'router':
      return {
        ...base,
        mode,
        routerHost: '0.0.0.0',
        routerPorts: routerPortsFrom(env),
        controlHost: '127.0.0.1',
        controlPort: portFrom(env, AGENT_ENV.controlPort, AGENT_CONTROL_PORT),
      }
  }
}

function modeFrom(env: Env): AgentMode {
  const raw = env[AGENT_ENV.mode]
  if (raw === undefined || raw === '') return AGENT_MODES[0] ?? 'shadow'
  const mode = AGENT_MODES.find((known) => known === raw)
  if (mode === undefined)
    throw new Error(`${AGENT_ENV.mode} must be one of ${AGENT_MODES.join(', ')}, got "${raw}"`)
  return mode
}

function routerPortsFrom(env: Env): RouterPortSpec[] {
  const raw = env[AGENT_ENV.routerPorts]
  if (raw === undefined || raw.trim() === '')
    throw new Error(`${AGENT_ENV.routerPorts} is not set; router mode needs the ports to route`)
  try {
    return parseRouterPorts(raw)
  } catch (error) {
    throw new Error(`${AGENT_ENV.routerPorts} ${error instanceof Error ? error.message : String(error)}`)
  }
}

function portFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`${name} must be a port number, got "${raw}"`)
  return port
}
