// Request latency under wrk at paced loads, per arm: p50 and p99 (and the rate reached), each held
// against plain `kubectl port-forward` at the same pacing. Socks-mode sessions are reached through
// ktx's HTTP proxy (wrk speaks no SOCKS): wrk sends absolute-URI requests to it.
import { fileURLToPath } from 'node:url'

import { run } from '../lib/proc.mjs'
import { summary } from '../lib/stats.mjs'

const SCRIPT = fileURLToPath(new URL('../lib/wrk-paced.lua', import.meta.url))

/** Loads: connections and the wait between one connection's requests. */
export const LOADS = [
  { name: 'moderate', connections: 4, waitMs: 10, seconds: 5 },
  { name: 'high', connections: 8, waitMs: 1, seconds: 5 },
]

export function wrkArgs(load, url) {
  return ['-t1', `-c${load.connections}`, `-d${load.seconds}s`, '-s', SCRIPT, url]
}

async function wrk(load, arm) {
  const env = { ...process.env, BENCH_WAIT_MS: String(load.waitMs), BENCH_PATH: arm.path }
  const out = await run('wrk', wrkArgs(load, arm.url), { env })
  const line = /^BENCH (.*)$/m.exec(out)
  if (!line) throw new Error(`wrk printed no result:\n${out}`)
  const result = JSON.parse(line[1])
  if (result.errors > 0 || result.requests === 0)
    throw new Error(`wrk through ${arm.name}: ${result.errors} errors of ${result.requests}`)
  return result
}

/** arms: [{ name, url (what wrk connects to), path (request target) }]. */
export async function latency({ arms, rounds }) {
  const samples = {}
  for (let r = 0; r < rounds; r++) {
    for (const load of LOADS) {
      for (const arm of arms) {
        const result = await wrk(load, arm)
        const key = `${load.name}/${arm.name}`
        samples[key] ??= { p50: [], p99: [], rate: [] }
        samples[key].p50.push(result.p50us / 1000)
        samples[key].p99.push(result.p99us / 1000)
        samples[key].rate.push(result.requests / result.seconds)
      }
    }
  }
  const rows = []
  for (const load of LOADS) {
    const label = `${load.connections} conn, ${load.waitMs} ms wait`
    for (const [metric, field, unit] of [
      ['p50', 'p50', 'ms'],
      ['p99', 'p99', 'ms'],
      ['rate reached', 'rate', 'req/s'],
    ]) {
      for (const arm of arms) {
        const s = samples[`${load.name}/${arm.name}`]
        rows.push({
          metric: `wrk ${load.name} load (${label}): ${metric}`,
          arm: arm.name,
          unit,
          better: field === 'rate' ? 'higher' : 'lower',
          stats: summary(s[field]),
          baseline: { arm: 'kubectl port-forward' },
          ...(field === 'p50' ? { addedOver: 'kubectl port-forward' } : {}),
        })
      }
    }
  }
  return rows
}
