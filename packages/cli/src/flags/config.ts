import { Args } from '@oclif/core'
import { SETTING_KEYS } from '@ktx/core/local'

/** The setting name argument of `ktx config get/set/unset`. */
export const settingArg = Args.string({
  description: `Setting: ${SETTING_KEYS.join(', ')}.`,
  required: true,
  options: [...SETTING_KEYS],
})
