// A local ESLint rule that keeps @ktx/core's layering straight (packages/core/ARCHITECTURE.md):
// each folder may import only folders below it, a verb under modes/ may import modes/shared and its
// own parts but never another verb's, and net/, dns/, tunnel/ never reach for kube/.
import { dirname, relative, resolve, sep } from 'node:path'

const coreSrc = resolve(import.meta.dirname, '../../packages/core/src')

// Lower rank = lower layer. A file may import its own area or an area of a lower rank.
const RANK = {
  errors: 0,
  contract: 0,
  logger: 0,
  events: 1,
  util: 1,
  exec: 2,
  host: 3,
  image: 3,
  net: 4,
  dns: 5,
  tunnel: 5,
  kube: 6,
  options: 7,
  session: 7,
  'modes/shared': 8,
  'modes/tun': 8,
  modes: 9,
  testing: 10,
  index: 10,
}

// Parts of a verb other than `modes/<verb>.ts` and `modes/<verb>/`, which only that verb may use.
const PARTS_OF = { 'modes/tun': 'connect' }

/** The area of a file under core's src: a top folder, a root file's name, or `modes/<verb>`. */
export function areaOf(file) {
  const parts = relative(coreSrc, file).split(sep)
  if (parts[0] === '..' || parts.length === 0) return undefined
  const [top, second] = parts
  if (parts.length === 1) return top.replace(/\.ts$/, '')
  if (top !== 'modes') return top
  return `modes/${second.replace(/\.ts$/, '')}`
}

function rankOf(area) {
  if (area in RANK) return RANK[area]
  return area.startsWith('modes/') ? RANK.modes : undefined
}

/** Why `from` may not import `to`, or undefined when it may. */
export function violation(from, to) {
  if (from === undefined || to === undefined || from === to) return undefined
  const fromRank = rankOf(from)
  const toRank = rankOf(to)
  if (fromRank === undefined || toRank === undefined) return undefined
  const owner = PARTS_OF[to]
  if (owner !== undefined) {
    return from === `modes/${owner}` || from === 'index'
      ? undefined
      : `${to} belongs to the ${owner} verb; move what ${from} needs to modes/shared`
  }
  if (from.startsWith('modes/') && to.startsWith('modes/') && to !== 'modes/shared' && fromRank === toRank) {
    return `verbs do not import each other: ${from} → ${to}; move what both need to modes/shared`
  }
  if (['net', 'dns', 'tunnel'].includes(from) && to === 'kube') {
    return `${from}/ never imports kube/: take what it needs as an argument`
  }
  if (toRank > fromRank) return `${from} may not import the higher layer ${to}`
  if (toRank === fromRank && !to.startsWith('modes/'))
    return `${from} and ${to} are one layer; neither imports the other`
  return undefined
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: "Keeps @ktx/core's layers: no import upward, no verb into another verb." },
    schema: [],
  },
  create(context) {
    const file = context.filename
    const from = areaOf(file)
    if (from === undefined) return {}
    const check = (node) => {
      const source = node.source
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return
      const target = resolve(dirname(file), source.value.replace(/\.js$/, '.ts'))
      const why = violation(from, areaOf(target))
      if (why) context.report({ node: source, message: `Layering: ${why}.` })
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    }
  },
}

export default { rules: { layers: layersRule } }
