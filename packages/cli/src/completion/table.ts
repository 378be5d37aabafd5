import type { Command } from '@oclif/core'

/** One flag as completion sees it: every spelling, and what its value may be. */
export interface CompletionFlag {
  /** `--excludeIps`, `--exclude-ips`, `-n`. */
  readonly names: readonly string[]
  /** undefined: a switch (takes no value). */
  readonly value?: { readonly options: readonly string[]; readonly file: boolean }
}

/** One command (`connect`, `config get`) as completion sees it. */
export interface CompletionCommand {
  readonly path: string
  readonly flags: readonly CompletionFlag[]
  /** For each positional argument, its allowed values (empty: anything). */
  readonly args: readonly (readonly string[])[]
}

/** What the shell scripts are generated from: the commands and the topics above them. */
export interface CompletionTable {
  readonly commands: readonly CompletionCommand[]
  /** Every command path and topic (`config`, `config get`), for walking the typed words. */
  readonly paths: readonly string[]
}

// Flags whose value is a path on this machine: completed with file names.
const FILE_FLAGS = new Set(['kubeconfig', 'tun2socks', 'output', 'bundle', 'node'])

/** The table for `commands` (oclif's loaded commands); hidden commands and flags are left out. */
export function completionTable(commands: readonly Command.Cached[]): CompletionTable {
  const visible = commands.filter((c) => !c.hidden)
  const rows = visible.map((c) => ({
    path: c.id.replaceAll(':', ' '),
    flags: Object.values(c.flags)
      .filter((f) => f.hidden !== true)
      .map((f) => ({
        names: [`--${f.name}`, ...(f.aliases ?? []).map((a) => `--${a}`), ...(f.char ? [`-${f.char}`] : [])],
        ...(f.type === 'option'
          ? { value: { options: [...(f.options ?? [])], file: FILE_FLAGS.has(f.name) } }
          : {}),
      })),
    args: Object.values(c.args).map((a): string[] => (a.options ?? []).map(String)),
  }))
  const paths = new Set<string>()
  for (const { path } of rows) {
    const words = path.split(' ')
    for (let n = 1; n <= words.length; n++) paths.add(words.slice(0, n).join(' '))
  }
  return { commands: rows.sort((a, b) => a.path.localeCompare(b.path)), paths: [...paths].sort() }
}

/** The words that may follow `path`: its subcommands (for `''`, the top-level ones). */
export function subcommandsOf(table: CompletionTable, path: string): string[] {
  const depth = path === '' ? 0 : path.split(' ').length
  return table.paths
    .filter((p) => (path === '' || p.startsWith(`${path} `)) && p.split(' ').length === depth + 1)
    .map((p) => p.split(' ').at(-1) ?? p)
}
