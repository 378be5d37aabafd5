import type { Rule } from 'eslint'

/** The layer of a file under packages/core/src, or undefined outside it. */
export function areaOf(file: string): string | undefined
/** Why an import from one area into another breaks the layering, or undefined when it does not. */
export function violation(from: string | undefined, to: string | undefined): string | undefined
export const layersRule: Rule.RuleModule
declare const plugin: { rules: { layers: Rule.RuleModule } }
export default plugin
