/**
 * Entry point of the agent process in the shadow pod (bundled to dist/agent.mjs). Reads its
 * configuration from the environment, logs JSON lines to stderr and exits on SIGTERM/SIGINT.
 */
import { type Agent, startAgent } from './agent.js'
import { type AgentConfig, readAgentConfig } from './config.js'
import { type AgentLog, jsonLog } from './log.js'
import { startRouterAgent } from './router-agent.js'

const log = jsonLog((line) => process.stderr.write(line), process.env.KTX_AGENT_DEBUG === '1')

function start(config: AgentConfig, agentLog: AgentLog): Promise<Agent> {
  switch (config.mode) {
    case 'shadow':
      return startAgent(config, agentLog)
    case 'router':
      return startRouterAgent(config, agentLog)
  }
}

try {
  const agent = await start(readAgentConfig(process.env), log)
  const stop = (signal: string): void => {
    log('info', 'Stopping', { signal })
    const force = setTimeout(() => process.exit(0), 1_000)
    force.unref()
    void agent.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
} catch (error) {
  log('error', 'Agent failed to start', { error: error instanceof Error ? error.message : String(error) })
  process.exit(1)
}
