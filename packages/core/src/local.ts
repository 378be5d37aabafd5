/**
 * `@ktx/core/local`: what works without a cluster (errors, the settings file, the local session
 * register). Nothing here imports `@kubernetes/client-node`, so `ktx status`, `ktx config` and
 * `ktx completion` load in a fraction of a verb's time and memory: the main entry pulls in the
 * client and every verb (test/integration/cli-lazy-load.test.ts holds the CLI to that).
 */
export { exitCodeFor, isKtxError, messageOf } from './errors.js'
export {
  type ResolvedSetting,
  SETTINGS,
  SETTING_KEYS,
  type SettingKey,
  type SettingSource,
  type UserConfig,
  checkSetting,
  isSettingKey,
  readUserConfig,
  resolveSetting,
  updateUserConfig,
  userConfigPath,
} from './host/user-config.js'
export { defaultStateDir } from './host/state-dir.js'
export type { LocalSessionFile, LocalSessionRecord } from './host/local-sessions.js'
export {
  type LocalSessionStatus,
  type LocalStatusReport,
  type SessionFacts,
  localStatus,
  trackLocalSession,
} from './modes/status/local.js'
