import { Args, Flags } from '@oclif/core'
import { SETTING_KEYS } from '@ktx/core'

/** The setting name argument of `ktx config get/set/unset`. */
export const settingArg = Args.string({
  description: `Setting: ${SETTING_KEYS.join(', ')}.`,
  required: true,
  options: [...SETTING_KEYS],
})

/** `ktx config list --json`. */
export const configListFlags = {
  json: Flags.boolean({ description: 'Print the settings as JSON.', default: false }),
}
