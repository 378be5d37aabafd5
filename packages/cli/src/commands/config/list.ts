import { SETTING_KEYS, resolveSetting } from '@ktx/core/local'

import { KtxCommand } from '../../base-command.js'
import { renderConfigList } from '../../render/config.js'
import { configPath, loadUserConfig } from '../../user-config.js'

/** `ktx config list`: every setting with its value and source. */
export default class ConfigList extends KtxCommand {
  static override summary = 'List every setting, its value and where it comes from'
  static override description =
    'Order of precedence: a flag on the verb, then the KTX_* environment variable, then the config file, then the default.'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json']

  async run(): Promise<void> {
    await this.parse(ConfigList)
    const file = await loadUserConfig()
    const settings = SETTING_KEYS.map((key) => resolveSetting(key, { env: process.env, file }))
    const path = configPath()
    this.result({ path, settings }, renderConfigList(settings, path))
  }
}
