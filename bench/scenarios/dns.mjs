// DNS through ktx's local server (TUN mode, localDNS) with dnsperf: the rate it sustains and the
// p99 of every answer, for a cached cluster name, uncached cluster names (a fresh NXDOMAIN name per
// query, so each one crosses the tunnel to the cluster DNS), and an upstream name. The baseline is
// the laptop's own resolver (dnsmasq) answering the upstream name straight, in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { start } from '../lib/proc.mjs'
import { percentile, summary } from '../lib/stats.mjs'

const SECONDS = 4
/** Uncached names are fewer: each crosses SSH and the cluster DNS, and NXDOMAIN is then cached. */
const UNCACHED_NAMES = 3000

export function dnsperfArgs(server, file, clients) {
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
    '-v',
  ]
}

/** Runs dnsperf; returns q/s, answered count, lost, and the answer-time percentiles from -v. */
async function dnsperf(server, names, clients) {
  const dir = mkdtempSync(join(tmpdir(), 'ktx-bench-dns-'))
  try {
    const file = join(dir, 'names')
    writeFileSync(file, names.map((n) => `${n} A`).join('\n') + '\n')
    const proc = start('dnsperf', dnsperfArgs(server, file, clients))
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

/** `server`: ktx's local DNS (`host:port`); `upstream`: the laptop's resolver. */
export async function dns({ server, upstream, namespace, rounds }) {
  const cached = [`web.${namespace}.svc.cluster.local`]
  const upstreamName = ['www.public.test']
  const cases = [
    { metric: 'cached cluster name', server, names: () => cached, clients: 4 },
    {
      metric: 'uncached cluster names (NXDOMAIN, each new)',
      server,
      names: (r) =>
        Array.from({ length: UNCACHED_NAMES }, (_, i) => `u${r}x${i}.${namespace}.svc.cluster.local`),
      clients: 4,
    },
    { metric: 'upstream name', server, names: () => upstreamName, clients: 4 },
  ]
  const samples = {}
  const add = (key, result) => {
    samples[key] ??= { qps: [], p99: [], p50: [], lost: [] }
    for (const field of ['qps', 'p99', 'p50', 'lost']) samples[key][field].push(result[field])
  }
  // Warm the cache (and the tunnel) for the cached names before timing.
  await dnsperf(server, cached, 1)
  for (let r = 0; r < rounds; r++) {
    add('baseline', await dnsperf(upstream, upstreamName, 4))
    for (const c of cases) add(c.metric, await dnsperf(c.server, c.names(r), c.clients))
  }
  const rows = []
  const armOf = (key) => (key === 'baseline' ? 'laptop resolver (dnsmasq) direct' : 'ktx local DNS')
  for (const key of ['baseline', ...cases.map((c) => c.metric)]) {
    const name = key === 'baseline' ? 'upstream name' : key
    for (const [field, unit, better] of [
      ['qps', 'q/s', 'higher'],
      ['p50', 'ms', 'lower'],
      ['p99', 'ms', 'lower'],
      ['lost', 'queries', 'lower'],
    ]) {
      rows.push({
        metric: `DNS ${name}: ${field === 'qps' ? 'queries per second' : field}`,
        arm: armOf(key),
        unit,
        better,
        stats: summary(samples[key][field]),
        baseline: {
          arm: armOf('baseline'),
          metric: `DNS upstream name: ${field === 'qps' ? 'queries per second' : field}`,
        },
      })
    }
  }
  return rows
}
