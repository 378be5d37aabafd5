import type { ResourceRef } from '@ktx/core'

/** `key=value,key=value`; empty for no labels. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
}

/** `kind/name` the way kubectl names an object (`deployment/web`). */
export function formatRef(ref: Pick<ResourceRef, 'kind' | 'name'>): string {
  return `${ref.kind.toLowerCase()}/${ref.name}`
}
