/**
 * The user's ktx settings file, `$XDG_CONFIG_HOME/ktx/config.json` (`~/.config/ktx/config.json`
 * when XDG_CONFIG_HOME is unset): a flat JSON object of {@link SETTING_KEYS}. And the one rule for
 * where a setting comes from, flag > `KTX_*` environment > this file > default, as a pure function
 * so the CLI and its tests share it. Core reads no environment itself: callers pass it in.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

import { DEFAULT_SHADOW_IMAGE } from '../contract.js'
import { ConfigError, UsageError } from '../errors.js'

/** What a setting names; each is also a flag of the verbs (`--image`, `--namespace`, …). */
export const SETTINGS = {
  image: {
    env: 'KTX_IMAGE',
    description: 'Image of the shadow pod agent',
    default: DEFAULT_SHADOW_IMAGE,
  },
  namespace: {
    env: 'KTX_NAMESPACE',
    description: "Namespace for ktx's objects",
    default: undefined,
    defaultText: "the context's namespace, then default",
  },
  kubeconfig: {
    env: 'KTX_KUBECONFIG',
    description: 'Path of the kubeconfig file',
    default: undefined,
    defaultText: '$KUBECONFIG, then ~/.kube/config',
  },
  context: {
    env: 'KTX_CONTEXT',
    description: 'Kubeconfig context to use',
    default: undefined,
    defaultText: "the kubeconfig's current context",
  },
} as const satisfies Record<
  string,
  { env: string; description: string; default: string | undefined; defaultText?: string }
>

export type SettingKey = keyof typeof SETTINGS
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]

/** The settings file's contents. */
export type UserConfig = Partial<Record<SettingKey, string>>

/** Where a setting's value came from. */
export type SettingSource = 'flag' | 'env' | 'file' | 'default'

/** A setting's effective value and its source; `value` undefined means "left to the kubeconfig". */
export interface ResolvedSetting {
  readonly key: SettingKey
  readonly value: string | undefined
  readonly source: SettingSource
}

/** The config file path: `$XDG_CONFIG_HOME/ktx/config.json`, else `~/.config/ktx/config.json`. */
export function userConfigPath(xdgConfigHome?: string): string {
  const base =
    xdgConfigHome !== undefined && xdgConfigHome !== '' ? xdgConfigHome : join(homedir(), '.config')
  return join(base, 'ktx', 'config.json')
}

/** True for a known setting name. */
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key)
}

/**
 * Checks a setting name and value (pure).
 * @throws UsageError naming the known settings, or what is wrong with the value.
 */
export function checkSetting(key: string, value: string): SettingKey {
  if (!isSettingKey(key)) {
    throw new UsageError(`Unknown setting "${key}"`, {
      suggestions: [`Settings: ${SETTING_KEYS.join(', ')}.`],
    })
  }
  if (value.trim() === '' || /\s/.test(value)) {
    throw new UsageError(`Invalid value ${JSON.stringify(value)} for ${key}: it must be one word`)
  }
  return key
}

/**
 * Where each setting comes from (pure): the flag if given, else its `KTX_*` variable if set and
 * non-empty, else the file, else the default.
 */
export function resolveSetting(
  key: SettingKey,
  sources: {
    readonly flag?: string | undefined
    readonly env: Readonly<Record<string, string | undefined>>
    readonly file: UserConfig
  },
): ResolvedSetting {
  if (sources.flag !== undefined) return { key, value: sources.flag, source: 'flag' }
  const fromEnv = sources.env[SETTINGS[key].env]
  if (fromEnv !== undefined && fromEnv !== '') return { key, value: fromEnv, source: 'env' }
  const fromFile = sources.file[key]
  if (fromFile !== undefined) return { key, value: fromFile, source: 'file' }
  return { key, value: SETTINGS[key].default, source: 'default' }
}

/**
 * Reads the file; a missing file is an empty config.
 * @throws ConfigError `KTX_CONFIG_INVALID` when it is not a JSON object of known string settings.
 */
export async function readUserConfig(path: string): Promise<UserConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw error
  }
  const fix = [`Fix or delete ${path}; \`ktx config list\` shows what ktx reads.`]
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ConfigError('KTX_CONFIG_INVALID', `${path} is not valid JSON`, { suggestions: fix })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('KTX_CONFIG_INVALID', `${path} must hold a JSON object`, { suggestions: fix })
  }
  const config: UserConfig = {}
  for (const [key, setting] of Object.entries(value)) {
    if (!isSettingKey(key) || typeof setting !== 'string') {
      throw new ConfigError(
        'KTX_CONFIG_INVALID',
        `${path}: "${key}" is not a setting ktx knows (or not a string)`,
        {
          suggestions: [`Settings: ${SETTING_KEYS.join(', ')}.`, ...fix],
        },
      )
    }
    config[key] = setting
  }
  return config
}

/** Sets (or, with `undefined`, removes) one setting; the file is replaced atomically. */
export async function updateUserConfig(
  path: string,
  key: SettingKey,
  value: string | undefined,
): Promise<UserConfig> {
  const current = await readUserConfig(path)
  const next: UserConfig = {}
  for (const name of SETTING_KEYS) {
    const kept = name === key ? value : current[name]
    if (kept !== undefined) next[name] = kept
  }
  await mkdir(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, path)
  return next
}
