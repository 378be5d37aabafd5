import { type Agent, startAgent } from './agent.js'
import type { RouterAgentConfig } from './config.js'
import type { AgentLog } from './log.js'
import { type ControlServer, startControlServer } from './router/control-server.js'
import { RouteTable } from './router/route-table.js'
import { type RouterPort, startRouterPort } from './router/router-port.js'
import { UpstreamPool } from './router/upstream-pool.js'

/** A running agent in router mode. */
export interface RouterAgent extends Agent {
  /** The routed ports, as bound (in configuration order). */
  readonly routerPorts: readonly number[]
  readonly controlPort: number
  /** The live route table (tests and logs read it; the control endpoint changes it). */
  readonly routes: RouteTable
}

/**
 * Starts the router of `ktx mesh`: the header router on every configured port and its control
 * endpoint, then the usual SSH server and health endpoint (same key, same loopback binding), so
 * the pod turns ready only once it routes. Each part is closed again if a later one fails to start.
 */
export async function startRouterAgent(config: RouterAgentConfig, log: AgentLog): Promise<RouterAgent> {
  const routes = new RouteTable(config.routerPorts.map((spec) => spec.port))
  const pool = new UpstreamPool(log)
  const ports: RouterPort[] = []
  let control: ControlServer | undefined
  const closeRouter = async (): Promise<void> => {
    await Promise.all([...ports.map((port) => port.close()), control?.close()])
    pool.close()
  }
  try {
    for (const spec of config.routerPorts)
      ports.push(await startRouterPort(spec, config.routerHost, routes, pool, log))
    control = await startControlServer(routes, config.controlHost, config.controlPort, log)
    log('info', 'Router control listening', { port: control.port })
  } catch (error) {
    await closeRouter()
    throw error
  }
  let agent: Agent
  try {
    agent = await startAgent(config, log)
  } catch (error) {
    await closeRouter()
    throw error
  }
  const controlPort = control.port
  return {
    sshPort: agent.sshPort,
    directPort: agent.directPort,
    healthPort: agent.healthPort,
    get openSockets() {
      return agent.openSockets
    },
    routerPorts: ports.map((port) => port.port),
    controlPort,
    routes,
    async close() {
      await Promise.all([agent.close(), closeRouter()])
    },
  }
}
