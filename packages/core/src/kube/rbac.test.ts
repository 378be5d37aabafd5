import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { describe, expect, it } from 'vitest'

import { RBAC_PROFILES } from './rbac.js'
import { mergeRules, profileMarkdown, roleManifest, rulesYaml } from './rbac-render.js'

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const docs = resolve(src, '../../../docs')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return entry === 'testing' ? [] : sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

// `resource` as the table spells it: without the group suffix some call sites add.
const bare = (resource: string): string => resource.replace(/\.[a-z0-9.-]+\.k8s\.io$/, '')

describe('the RBAC table', () => {
  it('grants every (verb, resource) a Kubernetes call in core makes', () => {
    const granted = new Set(
      RBAC_PROFILES.flatMap((p) => [...p.rules, ...p.optional]).flatMap((r) =>
        r.verbs.map((v) => `${v} ${r.resource}`),
      ),
    )
    const calls = new Set<string>()
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/verb: '(\w+)',\s*resource: '([\w./-]+)'/g)) {
        calls.add(`${m[1]} ${bare(m[2]!)}`)
      }
    }
    // The scan reads the code; were it to find nothing, the check below would pass vacuously.
    expect(calls.size).toBeGreaterThan(20)
    expect([...calls].filter((c) => !granted.has(c)).sort()).toEqual([])
  })

  it('merges rules on one resource into one rule with the verbs in a fixed order', () => {
    const merged = mergeRules([
      { apiGroup: '', resource: 'pods', verbs: ['delete', 'get'], why: 'a' },
      { apiGroup: '', resource: 'pods', verbs: ['patch', 'get'], why: 'b' },
    ])
    expect(merged).toEqual([
      { apiGroup: '', resource: 'pods', verbs: ['get', 'patch', 'delete'], why: 'a; b' },
    ])
    expect(rulesYaml(merged)).toBe("- apiGroups: ['']\n  resources: [pods]\n  verbs: [get, patch, delete]")
  })
})

describe('docs/rbac', () => {
  for (const profile of RBAC_PROFILES) {
    it(`${profile.name}.yaml is the table's Role`, async () => {
      await expect(roleManifest(profile)).toMatchFileSnapshot(join(docs, 'rbac', `${profile.name}.yaml`))
    })
  }

  it("rbac.md's generated part is the table", () => {
    const text = readFileSync(join(docs, 'rbac.md'), 'utf8')
    const generated = /<!-- rbac:begin[^>]*-->\n([\s\S]*?)\n<!-- rbac:end -->/.exec(text)?.[1]
    expect(generated).toBe(RBAC_PROFILES.map(profileMarkdown).join('\n\n'))
  })
})
