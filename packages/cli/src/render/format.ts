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

/** A duration for progress lines: `0.4s`, `12.3s`, `2m 05s`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const whole = Math.round(seconds)
  return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`
}
