import { Args } from '@oclif/core'

import { KtxCommand } from '../base-command.js'
import { bashScript, zshScript } from '../completion/scripts.js'
import { completionTable } from '../completion/table.js'

const SHELLS = { bash: bashScript, zsh: zshScript } as const

/** `ktx completion <shell>`: a completion script for the shell, made from this ktx's commands. */
export default class Completion extends KtxCommand {
  static override summary = 'Print a shell completion script (bash or zsh)'
  static override description =
    'Completes commands, flags (camelCase and kebab-case), flag choices (--mode, --dnsMode, …), setting names and file paths. The script is generated from this ktx’s commands; regenerate it after an upgrade.'
  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    '<%= config.bin %> completion bash > ~/.local/share/bash-completion/completions/<%= config.bin %>',
    '<%= config.bin %> completion zsh > "${fpath[1]}/_<%= config.bin %>"',
  ]
  static override args = {
    shell: Args.string({ description: 'The shell.', required: true, options: Object.keys(SHELLS) }),
  }

  async run(): Promise<void> {
    const { args } = await this.parse(Completion)
    const shell = args.shell as keyof typeof SHELLS
    const script = SHELLS[shell](completionTable(this.config.commands))
    this.result({ shell, script }, [script.trimEnd()])
  }
}
