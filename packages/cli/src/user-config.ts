/**
 * The CLI's side of the settings file: where it is for this process (XDG_CONFIG_HOME), and filling
 * a verb's unset `--image`/`--namespace`/`--kubeconfig`/`--context` from it. oclif has already
 * applied flags and their `KTX_*` variables, so what is still unset falls to the file, then to
 * core's default: flag > env > file > default.
 */
import {
  SETTING_KEYS,
  type UserConfig,
  defaultStateDir,
  readUserConfig,
  userConfigPath,
} from '@ktx/core/local'

/** This process's settings file path. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return userConfigPath(env.XDG_CONFIG_HOME)
}

/** The settings file of this process (empty when there is none). */
export function loadUserConfig(env: NodeJS.ProcessEnv = process.env): Promise<UserConfig> {
  return readUserConfig(configPath(env))
}

/**
 * Sets each setting the command has a flag for, and that neither the flag nor its variable set,
 * from `config` (pure; returns a new object).
 */
export function fillFromUserConfig<T extends object>(
  flags: T,
  commandFlags: Readonly<Record<string, unknown>>,
  config: UserConfig,
): T {
  const filled: Record<string, unknown> = { ...(flags as Record<string, unknown>) }
  for (const key of SETTING_KEYS) {
    if (key in commandFlags && filled[key] === undefined && config[key] !== undefined)
      filled[key] = config[key]
  }
  return filled as T
}

/** ktx's state directory for this process: `KTX_STATE_DIR`, else `~/.ktx` (logs, the session register). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.KTX_STATE_DIR
  return dir !== undefined && dir !== '' ? dir : defaultStateDir()
}
