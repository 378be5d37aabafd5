import { resolveSetting } from '@ktx/core/local'

import { KtxCommand } from '../../base-command.js'
import { settingArg } from '../../flags/config.js'
import { loadUserConfig } from '../../user-config.js'

/** `ktx config get <key>`: the value ktx would use, from the environment, the file or the default. */
export default class ConfigGet extends KtxCommand {
  static override summary = 'Print the value ktx uses for a setting'
  static override description =
    'Prints the effective value: its KTX_* environment variable, else the config file, else the default (a flag on a verb overrides all three). Prints nothing when the value is left to the kubeconfig.'
  static override examples = ['<%= config.bin %> config get image']
  static override args = { key: settingArg }

  async run(): Promise<void> {
    const { args } = await this.parse(ConfigGet)
    const setting = resolveSetting(args.key as Parameters<typeof resolveSetting>[0], {
      env: process.env,
      file: await loadUserConfig(),
    })
    this.result(setting, setting.value === undefined ? [] : [setting.value])
  }
}
