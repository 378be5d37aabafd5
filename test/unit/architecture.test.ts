/**
 * The shape of the code base, checked: no import cycle in any package, and the layer fence of
 * `@ktx/core` (tools/eslint/layers.js, run by `npm run lint`) refusing real violations.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Linter } from 'eslint'
import tseslint from 'typescript-eslint'
import { describe, expect, it } from 'vitest'

import ktx from '../../tools/eslint/layers.js'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const packages = ['core', 'cli', 'shadow-image'].map((name) => join(repo, 'packages', name, 'src'))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

// Relative imports and re-exports of one file, resolved to files (type-only ones too: a cycle of
// types is still two files that cannot be understood one without the other).
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
    resolve(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')),
  )
}

// Tarjan's strongly connected components; every component with more than one file is a cycle.
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    index.set(node, counter)
    low.set(node, counter)
    counter += 1
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0))
      }
    }
    if (low.get(node) !== index.get(node)) return
    const component: string[] = []
    for (;;) {
      const member = stack.pop() ?? node
      onStack.delete(member)
      component.push(member)
      if (member === node) break
    }
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component)
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return found
}

describe('imports', () => {
  it.each(packages)('have no cycle in %s', (dir) => {
    const graph = new Map(sourceFiles(dir).map((file) => [file, importsOf(file)]))
    expect(graph.size).toBeGreaterThan(5)
    expect(cycles(graph).map((c) => c.map((f) => relative(repo, f)).sort())).toEqual([])
  })

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ])
    expect(cycles(graph).map((c) => c.sort())).toEqual([['a', 'b', 'c']])
  })
})

describe('the layer fence of @ktx/core', () => {
  const linter = new Linter({ configType: 'flat' })
  const lint = (file: string, code: string): string[] =>
    linter
      .verify(
        code,
        [
          {
            files: ['**/*.ts'],
            languageOptions: { parser: tseslint.parser },
            plugins: { ktx },
            rules: { 'ktx/layers': 'error' },
          },
        ],
        { filename: join(repo, 'packages/core/src', file) },
      )
      .map((m) => m.message)

  it('lets a file import lower layers and its own verb', () => {
    expect(lint('kube/service.ts', "import { sleep } from '../util/sleep.js'")).toEqual([])
    expect(
      lint(
        'modes/exchange.ts',
        "import { x } from './shared/setup.js'\nimport { y } from './exchange/scale.js'",
      ),
    ).toEqual([])
    expect(lint('modes/connect.ts', "import { startTun } from './tun/layer.js'")).toEqual([])
    expect(lint('index.ts', "export { exchange } from './modes/exchange.js'")).toEqual([])
  })

  it('refuses net/, dns/ and tunnel/ reaching for kube/', () => {
    expect(lint('net/cidr.ts', "import type { Kube } from '../kube/client.js'")).toEqual([
      expect.stringContaining('net/ never imports kube/'),
    ])
    expect(lint('tunnel/ssh.ts', "export { createKube } from '../kube/client.js'")).toHaveLength(1)
  })

  it('refuses imports upward', () => {
    expect(lint('kube/service.ts', "import { exchange } from '../modes/exchange.js'")).toEqual([
      expect.stringContaining('may not import the higher layer'),
    ])
    expect(lint('util/sleep.ts', "const m = await import('../host/host.js')")).toHaveLength(1)
  })

  it("refuses a verb importing another verb's internals", () => {
    expect(lint('modes/exchange/acquire.ts', "import { cleanCluster } from '../clean/cluster.js'")).toEqual([
      expect.stringContaining('verbs do not import each other'),
    ])
    expect(lint('modes/exchange.ts', "import { startTun } from './tun/layer.js'")).toEqual([
      expect.stringContaining('belongs to the connect verb'),
    ])
    expect(lint('modes/shared/setup.ts', "import { connect } from '../connect.js'")).toHaveLength(1)
  })
})
