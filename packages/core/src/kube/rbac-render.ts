/**
 * The RBAC table of `rbac.ts` as text: Role manifests (the files in `docs/rbac/`, the Roles the
 * e2e suites bind) and the Markdown tables of `docs/rbac.md`.
 */
import type { RbacProfile, RbacRule } from './rbac.js'

/** The rules with one entry per (group, resource), verbs merged in a fixed order. */
export function mergeRules(rules: readonly RbacRule[]): RbacRule[] {
  const merged = new Map<string, RbacRule>()
  for (const rule of rules) {
    const key = `${rule.apiGroup}/${rule.resource}`
    const before = merged.get(key)
    const verbs = new Set([...(before?.verbs ?? []), ...rule.verbs])
    merged.set(key, {
      apiGroup: rule.apiGroup,
      resource: rule.resource,
      verbs: VERB_ORDER.filter((v) => verbs.has(v)),
      why: before ? `${before.why}; ${rule.why}` : rule.why,
    })
  }
  return [...merged.values()]
}

const VERB_ORDER = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']

/** The `rules:` list of a Role as YAML, one rule per (group, resource). */
export function rulesYaml(rules: readonly RbacRule[]): string {
  return mergeRules(rules)
    .map(
      (rule) =>
        `- apiGroups: ['${rule.apiGroup}']\n  resources: [${rule.resource}]\n  verbs: [${rule.verbs.join(', ')}]`,
    )
    .join('\n')
}

/** A Role granting a profile's namespaced rules, with a comment per rule saying why. */
export function roleManifest(
  profile: RbacProfile,
  options: { readonly name?: string; readonly namespace?: string } = {},
): string {
  const name = options.name ?? `ktx-${profile.name}`
  const namespace = options.namespace === undefined ? '' : `\n  namespace: ${options.namespace}`
  const rules = mergeRules(profile.rules)
    .map(
      (rule) =>
        `  # ${rule.why}\n  - apiGroups: ['${rule.apiGroup}']\n    resources: [${rule.resource}]\n    verbs: [${rule.verbs.join(', ')}]`,
    )
    .join('\n')
  return `# ${profile.command}: the least rights, in the session's namespace.\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: ${name}${namespace}\nrules:\n${rules}\n`
}

/** A profile as Markdown: its rules, then what it does without each optional one. */
export function profileMarkdown(profile: RbacProfile): string {
  const group = (g: string): string => (g === '' ? '""' : g)
  const lines = [
    `### \`${profile.command}\` (\`docs/rbac/${profile.name}.yaml\`)`,
    '',
    '| group | resource | verbs | why |',
    '| --- | --- | --- | --- |',
    ...profile.rules.map(
      (r) => `| ${group(r.apiGroup)} | ${r.resource} | ${r.verbs.join(', ')} | ${r.why} |`,
    ),
  ]
  if (profile.optional.length > 0) {
    lines.push(
      '',
      'Optional:',
      '',
      '| scope | group | resource | verbs | why | without it |',
      '| --- | --- | --- | --- | --- | --- |',
      ...profile.optional.map(
        (r) =>
          `| ${r.scope} | ${group(r.apiGroup)} | ${r.resource} | ${r.verbs.join(', ')} | ${r.why} | ${r.without} |`,
      ),
    )
  }
  return lines.join('\n')
}
