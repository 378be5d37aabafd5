import { checkSetting, updateUserConfig } from '@ktx/core/local'

import { KtxCommand } from '../../base-command.js'
import { settingArg } from '../../flags/config.js'
import { configPath } from '../../user-config.js'

/** `ktx config unset <key>`: remove a default from the config file. */
export default class ConfigUnset extends KtxCommand {
  static override summary = 'Remove a setting from the config file'
  static override examples = ['<%= config.bin %> config unset image']
  static override args = { key: settingArg }

  async run(): Promise<void> {
    const { args } = await this.parse(ConfigUnset)
    const key = checkSetting(args.key, 'x')
    const path = configPath()
    await updateUserConfig(path, key, undefined)
    this.result({ key, path }, [`${key} removed from ${path}`])
  }
}
