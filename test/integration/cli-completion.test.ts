/**
 * `ktx completion bash|zsh` from the built CLI: the script is sourced in a real bash and the
 * candidates bash would offer (COMPREPLY, filled by compgen) are checked for commands, topics,
 * flags in both spellings, flag choices, setting names and paths. zsh (when installed) runs the same
 * walk with compadd and _files replaced by functions that print what they were given, since those
 * two work only inside an interactive completion widget.
 */
import { execFile } from 'node:child_process'
import { accessSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { beforeAll, describe, expect, it } from 'vitest'

import { KTX_BIN } from '../harness/ktx.js'

const run = promisify(execFile)
const work = mkdtempSync(join(tmpdir(), 'ktx-completion-'))
const scripts = { bash: join(work, 'ktx.bash'), zsh: join(work, 'ktx.zsh') }
const hasZsh = (() => {
  try {
    accessSync('/usr/bin/zsh')
    return true
  } catch {
    return false
  }
})()

beforeAll(async () => {
  for (const shell of ['bash', 'zsh'] as const) {
    const { stdout } = await run(process.execPath, [KTX_BIN, 'completion', shell])
    writeFileSync(scripts[shell], stdout)
  }
  writeFileSync(join(work, 'kubeconfig-team-a'), '')
})

/** What bash offers for the words typed so far (the last one is being completed). */
async function bash(...typed: string[]): Promise<string[]> {
  const words = typed.map((w) => `'${w}'`).join(' ')
  const { stdout } = await run('bash', [
    '-c',
    `source ${scripts.bash}; cd ${work}; COMP_WORDS=(${words}); COMP_CWORD=${typed.length - 1}; _ktx; printf '%s\\n' "\${COMPREPLY[@]}"`,
  ])
  return stdout.split('\n').filter((line) => line !== '')
}

describe('ktx completion bash', () => {
  it('registers itself for ktx', async () => {
    const { stdout } = await run('bash', ['-c', `source ${scripts.bash}; complete -p ktx`])
    expect(stdout.trim()).toBe('complete -F _ktx ktx')
  })

  it('completes commands and topics', async () => {
    expect(await bash('ktx', '')).toEqual([
      'clean',
      'completion',
      'config',
      'connect',
      'exchange',
      'image',
      'mesh',
      'preview',
      'recover',
      'status',
    ])
    expect(await bash('ktx', 'co')).toEqual(['completion', 'config', 'connect'])
    expect(await bash('ktx', 'config', '')).toEqual(['get', 'list', 'set', 'unset'])
    expect(await bash('ktx', 'image', 'p')).toEqual(['push'])
  })

  it("completes a command's flags in both spellings, --json and --help among them", async () => {
    expect(await bash('ktx', 'connect', '--exc')).toEqual(['--excludeIps', '--exclude-ips'])
    expect(await bash('ktx', 'exchange', 'web', '--')).toEqual(
      expect.arrayContaining(['--expose', '--mode', '--json', '--help', '--recover-wait-time']),
    )
    expect(await bash('ktx', 'status', '--c')).toEqual(['--context', '--cluster'])
  })

  it('completes flag choices, after other flags and values too', async () => {
    expect(await bash('ktx', 'connect', '--mode', '')).toEqual(['tun', 'socks'])
    expect(await bash('ktx', 'connect', '-n', 'team-a', '--dnsMode', 'l')).toEqual(['localDNS'])
    expect(await bash('ktx', 'exchange', 'web', '--mode', '')).toEqual(['selector', 'scale'])
    // A value that is free text offers nothing rather than guessing.
    expect(await bash('ktx', 'connect', '--namespace', '')).toEqual([])
  })

  it('completes setting names, shells and paths', async () => {
    expect(await bash('ktx', 'config', 'set', '')).toEqual(['image', 'namespace', 'kubeconfig', 'context'])
    expect(await bash('ktx', 'completion', '')).toEqual(['bash', 'zsh'])
    expect(await bash('ktx', 'connect', '--kubeconfig', 'kube')).toEqual(['kubeconfig-team-a'])
  })
})

describe.skipIf(!hasZsh)('ktx completion zsh', () => {
  async function zsh(...typed: string[]): Promise<string> {
    const words = typed.map((w) => `'${w}'`).join(' ')
    const { stdout } = await run('zsh', [
      '-c',
      [
        'compdef() { print -r -- "compdef $*" }',
        'compadd() { shift; print -r -- "$*" }',
        '_files() { print -r -- "(files)" }',
        `source ${scripts.zsh}`,
        `words=(${words}); CURRENT=${typed.length}; _ktx`,
      ].join('\n'),
    ])
    return stdout.trim()
  }

  it('is valid zsh and registers _ktx for ktx', async () => {
    await run('zsh', ['-n', scripts.zsh])
    expect(await zsh('ktx', '')).toMatch(/^compdef _ktx ktx\n/)
  })

  it('offers the same candidates as bash (zsh filters them by prefix itself)', async () => {
    expect((await zsh('ktx', 'config', '')).split('\n').at(-1)).toBe('get list set unset')
    expect((await zsh('ktx', 'connect', '-n', 'x', '--dnsMode', '')).split('\n').at(-1)).toBe(
      'localDNS hosts none',
    )
    expect((await zsh('ktx', 'config', 'get', '')).split('\n').at(-1)).toBe(
      'image namespace kubeconfig context',
    )
    expect((await zsh('ktx', 'connect', '--kubeconfig', '')).split('\n').at(-1)).toBe('(files)')
  })
})
