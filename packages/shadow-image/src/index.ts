/** The ktx in-cluster agent, as a library (for tests and the bundle entry). */
export { type Agent, startAgent } from './agent.js'
export {
  type AgentConfig,
  type BaseAgentConfig,
  type RouterAgentConfig,
  type ShadowAgentConfig,
  readAgentConfig,
} from './config.js'
export { type AgentLog, jsonLog, silentLog } from './log.js'
export { type RouterAgent, startRouterAgent } from './router-agent.js'
