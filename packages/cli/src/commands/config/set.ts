import { Args } from '@oclif/core'
import { checkSetting, updateUserConfig } from '@ktx/core/local'

import { KtxCommand } from '../../base-command.js'
import { settingArg } from '../../flags/config.js'
import { configPath } from '../../user-config.js'

/** `ktx config set <key> <value>`: store a default in the config file. */
export default class ConfigSet extends KtxCommand {
  static override summary = 'Store a default for a setting in the config file'
  static override description =
    'Writes $XDG_CONFIG_HOME/ktx/config.json (~/.config/ktx/config.json). Every verb uses it when neither the flag nor its KTX_* variable is given.'
  static override examples = [
    '<%= config.bin %> config set image ghcr.io/my-org/ktx-shadow:0.1.0',
    '<%= config.bin %> config set namespace team-a',
  ]
  static override args = {
    key: settingArg,
    value: Args.string({ description: 'The value.', required: true }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(ConfigSet)
    const key = checkSetting(args.key, args.value)
    const path = configPath()
    await updateUserConfig(path, key, args.value)
    this.result({ key, value: args.value, path }, [`${key} = ${args.value} (in ${path})`])
  }
}
