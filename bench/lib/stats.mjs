// Summaries the report prints: min/median/max over rounds, percentiles of samples, ratios.

/** The p-th percentile (nearest rank) of numbers sorted ascending. */
export function percentile(sorted, p) {
  if (sorted.length === 0) throw new Error('percentile of no samples')
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** min/median/max of one figure measured once per round. */
export function summary(values) {
  if (values.length === 0) throw new Error('summary of no rounds')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { min: round(sorted[0]), median: round(median), max: round(sorted.at(-1)), rounds: values.length }
}

/** a / b of two medians, or null when the baseline is missing or zero. */
export function ratio(a, b) {
  if (a === undefined || b === undefined || b === 0) return null
  return round(a / b, 3)
}

export function round(value, digits = 3) {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
