import { type CompletionTable, subcommandsOf } from './table.js'

/*
 * Both scripts share one set of shell functions generated from the table (plain `case` statements
 * that bash and zsh read alike); only the function that walks the typed words and hands the
 * candidates to the shell differs. Nothing runs ktx at completion time, so a TAB is instant.
 */

function quoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`
}

function caseOf(name: string, key: string, arms: readonly (readonly [string, string])[]): string[] {
  return [
    `${name}() {`,
    `  case ${key} in`,
    ...arms.map(([match, body]) => `    ${quoted(match)}) ${body} ;;`),
    '  esac',
    '  return 1',
    '}',
  ]
}

function helpers(table: CompletionTable): string[] {
  const words = (list: readonly string[]): string => `echo ${quoted(list.join(' '))}; return 0`
  const flagArms = table.commands.map(
    (c) =>
      [
        c.path,
        words([...c.flags.flatMap((f) => f.names.filter((n) => n.startsWith('--'))), '--help']),
      ] as const,
  )
  const subArms = table.paths
    .concat([''])
    .map((p) => [p, subcommandsOf(table, p)] as const)
    .filter(([, subs]) => subs.length > 0)
    .map(([p, subs]) => [p, words(subs)] as const)
  const valued = table.commands.flatMap((c) =>
    c.flags.flatMap(({ names, value }) =>
      value ? names.map((n) => [`${c.path} ${n}`, value] as const) : [],
    ),
  )
  const valueArms = valued.map(([key, value]) => {
    if (value.options.length > 0) return [key, words(value.options)] as const
    return [key, value.file ? 'echo __files__; return 0' : 'return 0'] as const
  })
  const argArms = table.commands.flatMap((c) =>
    c.args.flatMap((options, index) =>
      options.length > 0 ? [[`${c.path} ${index}`, words(options)] as const] : [],
    ),
  )
  return [
    `_ktx_paths=${quoted(`|${table.paths.join('|')}|`)}`,
    '# Subcommands of a command path ("" for the top level).',
    ...caseOf('_ktx_subcommands', '"$1"', subArms),
    '# The long flags of a command.',
    ...caseOf('_ktx_flags', '"$1"', flagArms),
    '# Succeeds when flag $2 of command $1 takes a value; prints its choices (__files__: a path).',
    ...caseOf('_ktx_values', '"$1 $2"', valueArms),
    '# Choices of positional argument $2 (from 0) of command $1.',
    ...caseOf('_ktx_args', '"$1 $2"', argArms),
  ]
}

// The walk over the words before the cursor: the command path, how many arguments were given,
// and whether the last word was a flag still waiting for its value.
const WALK = [
  '    if [[ -n $skip ]]; then skip=""; continue; fi',
  '    if [[ $w == -* ]]; then',
  '      [[ $w != *=* ]] && _ktx_values "$cmd" "$w" >/dev/null && skip=1',
  '      continue',
  '    fi',
  '    if (( argn == 0 )) && [[ $_ktx_paths == *"|${cmd:+$cmd }$w|"* ]]; then cmd="${cmd:+$cmd }$w"; else argn=$((argn + 1)); fi',
  '  done',
  '  local choices',
  '  if [[ -n $skip ]]; then',
  '    choices=$(_ktx_values "$cmd" "$prev")',
  '  elif [[ $cur == -* ]]; then',
  '    choices=$(_ktx_flags "$cmd")',
  '  else',
  '    choices="$(_ktx_subcommands "$cmd") $(_ktx_args "$cmd" "$argn")"',
  '  fi',
]

/** `ktx completion bash`: source it (or put it in a bash-completion directory). */
export function bashScript(table: CompletionTable): string {
  return [
    '# ktx completion for bash. Load it with: source <(ktx completion bash)',
    '# or install it: ktx completion bash > ~/.local/share/bash-completion/completions/ktx',
    ...helpers(table),
    '_ktx() {',
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" argn=0 skip="" w i',
    '  for (( i = 1; i < COMP_CWORD; i++ )); do',
    '    w=${COMP_WORDS[i]}',
    ...WALK,
    '  if [[ $choices == __files__ ]]; then',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -W "$choices" -- "$cur"))',
    '  fi',
    '}',
    'complete -F _ktx ktx',
    '',
  ].join('\n')
}

/** `ktx completion zsh`: put it on $fpath as `_ktx`, or source it after compinit. */
export function zshScript(table: CompletionTable): string {
  return [
    '#compdef ktx',
    '# ktx completion for zsh. Load it with: source <(ktx completion zsh)   (after compinit)',
    '# or install it: ktx completion zsh > "${fpath[1]}/_ktx"',
    ...helpers(table),
    '_ktx() {',
    '  local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmd="" argn=0 skip="" w i',
    '  for (( i = 2; i < CURRENT; i++ )); do',
    '    w=${words[i]}',
    ...WALK,
    '  if [[ $choices == __files__ ]]; then',
    '    _files',
    '  else',
    '    local -a candidates',
    '    candidates=(${=choices})',
    '    compadd -- ${candidates[@]}',
    '  fi',
    '}',
    'if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _ktx "$@"; else compdef _ktx ktx; fi',
    '',
  ].join('\n')
}
