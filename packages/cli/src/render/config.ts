import { type ResolvedSetting, SETTINGS } from '@ktx/core/local'

const FROM = { flag: 'flag', env: 'environment', file: 'config file', default: 'default' } as const

/** `ktx config list`: each setting, its value and where it comes from. */
export function renderConfigList(settings: readonly ResolvedSetting[], path: string): string[] {
  const width = Math.max(...settings.map((s) => s.key.length))
  const lines = settings.map((s) => {
    const spec = SETTINGS[s.key]
    const value = s.value ?? `(${'defaultText' in spec ? spec.defaultText : 'unset'})`
    const from = s.source === 'env' ? `${FROM.env} ${spec.env}` : FROM[s.source]
    return `${s.key.padEnd(width)}  ${value}  [${from}]`
  })
  return [...lines, `Config file: ${path}`]
}
