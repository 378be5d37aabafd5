// DNS through ktx's local server (TUN mode, localDNS) with dnsperf, for a cached cluster name,
// uncached cluster names (a fresh NXDOMAIN name per query, so each one crosses the tunnel to the
// cluster DNS), and an upstream name. Two kinds of arm:
// - max rate: dnsperf sends as fast as answers come back (4 clients, 100 outstanding): the rate
//   the server sustains; its p99 is mostly queueing on a saturated machine;
// - paced (dnsperf -Q): a fixed offered rate, so p50/p99 are the answer time at that load.
// The baseline is the laptop's own resolver (dnsmasq) answering the upstream name straight, at the
// same rates, in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { start } from '../lib/proc.mjs'
import { percentile, summary } from '../lib/stats.mjs'

const SECONDS = 4
/** Uncached names are fewer: each crosses SSH and the cluster DNS, and NXDOMAIN is then cached. */
const UNCACHED_NAMES = 3000
/** Offered rates of the paced arms, queries per second. */
export const PACED_RATES = [1000, 10_000]

/** dnsperf's arguments; `rate` (q/s) paces it with -Q, undefined sends at the maximum rate. */
export function dnsperfArgs(server, file, clients, rate) {
  const [host, port] = server.split(':')
  return [
    '-s',
    host,
    '-p',
    port ?? '53',
    '-d',
    file,
    '-l',
    String(SECONDS),
    '-c',
    String(clients),
    '-T',
    '1',
    '-t',
    '2',
    ...(rate === undefined ? [] : ['-Q', String(rate)]),
    '-v',
  ]
}

/** Runs dnsperf; returns q/s, answered count, lost, and the answer-time percentiles from -v. */
async function dnsperf(server, names, clients, rate) {
  const dir = mkdtempSync(join(tmpdir(), 'ktx-bench-dns-'))
  try {
    const file = join(dir, 'names')
    writeFileSync(file, names.map((n) => `${n} A`).join('\n') + '\n')
    const proc = start('dnsperf', dnsperfArgs(server, file, clients, rate))
    const result = await proc.done
    if (result.code !== 0) throw new Error(`dnsperf exited ${result.code}: ${result.stderr}`)
    const qps = Number(/Queries per second:\s+([\d.]+)/.exec(result.stdout)?.[1])
    const lost = Number(/Queries lost:\s+(\d+)/.exec(result.stdout)?.[1])
    // -v prints one line per answer: "> RCODE name type latency-seconds".
    const times = [...result.stdout.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000)
    if (!Number.isFinite(qps) || times.length === 0)
      throw new Error(`dnsperf printed no figures:\n${result.stdout.slice(0, 2000)}`)
    times.sort((a, b) => a - b)
    return { qps, lost, p50: percentile(times, 50), p99: percentile(times, 99) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const rateLabel = (rate) => (rate === undefined ? 'max rate' : `paced ${rate} q/s`)

/** `server`: ktx's local DNS (`host:port`); `upstream`: the laptop's resolver. */
export async function dns({ server, upstream, namespace, rounds }) {
  const cached = [`web.${namespace}.svc.cluster.local`]
  const upstreamName = ['www.public.test']
  const uncached = (r) =>
    Array.from({ length: UNCACHED_NAMES }, (_, i) => `u${r}x${i}.${namespace}.svc.cluster.local`)
  const ktx = 'ktx local DNS'
  const base = 'laptop resolver (dnsmasq) direct'
  const rates = [undefined, ...PACED_RATES]
  const cases = [
    // Each rate's baseline next to its ktx arm, so both see the same moment of the shared machine.
    ...rates.flatMap((rate) => [
      { name: 'upstream name', arm: base, server: upstream, names: () => upstreamName, rate },
      { name: 'cached cluster name', arm: ktx, server, names: () => cached, rate },
    ]),
    { name: 'uncached cluster names (NXDOMAIN, each new)', arm: ktx, server, names: uncached },
    { name: 'upstream name', arm: ktx, server, names: () => upstreamName },
  ]
  for (const c of cases) c.metric = `DNS ${c.name}, ${rateLabel(c.rate)}`
  const fields = ['qps', 'p50', 'p99', 'lost']
  const samples = new Map(cases.map((c) => [c, Object.fromEntries(fields.map((f) => [f, []]))]))
  // Warm the cache (and the tunnel) for the cached names before timing.
  await dnsperf(server, cached, 1)
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const result = await dnsperf(c.server, c.names(r), 4, c.rate)
      for (const f of fields) samples.get(c)[f].push(result[f])
    }
  }
  const rows = []
  for (const c of cases) {
    for (const [field, unit, better] of [
      ['qps', 'q/s', 'higher'],
      ['p50', 'ms', 'lower'],
      ['p99', 'ms', 'lower'],
      ['lost', 'queries', 'lower'],
    ]) {
      const label = field === 'qps' ? 'queries per second' : field
      rows.push({
        metric: `${c.metric}: ${label}`,
        arm: c.arm,
        unit,
        better,
        stats: summary(samples.get(c)[field]),
        baseline: { arm: base, metric: `DNS upstream name, ${rateLabel(c.rate)}: ${label}` },
      })
    }
  }
  return rows
}
