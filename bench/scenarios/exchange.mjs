// Exchange: request latency from a cluster pod to the laptop process (Service `web`, exchanged to
// a ktx-testserver on the laptop) vs to a normal pod (Service `base`), rounds interleaved. The
// client pod runs ktx-testserver http-client: keep-alive GETs on one connection, one JSON line per
// response with its latency; the first request (the connection's set-up) is kept apart.
import { kubectl } from '../lib/cluster.mjs'
import { percentile, summary } from '../lib/stats.mjs'

const REQUESTS = 300

export function clientArgs(namespace, url) {
  return [
    '-n',
    namespace,
    'exec',
    'client',
    '--',
    'ktx-testserver',
    'http-client',
    '--quiet',
    '--count',
    String(REQUESTS),
    '--url',
    url,
  ]
}

async function requests(env, namespace, url, servedBy) {
  const out = await kubectl(env, clientArgs(namespace, url))
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  if (lines.length !== REQUESTS) throw new Error(`${url}: ${lines.length} answers of ${REQUESTS}`)
  const wrong = lines.find((l) => l.status !== 200 || l.servedBy !== servedBy)
  if (wrong)
    throw new Error(`${url}: answered by ${wrong.servedBy} (status ${wrong.status}), expected ${servedBy}`)
  const first = lines.find((l) => l.request === 1).latencyUs / 1000
  const rest = lines
    .filter((l) => l.request !== 1)
    .map((l) => l.latencyUs / 1000)
    .sort((a, b) => a - b)
  return { first, p50: percentile(rest, 50), p99: percentile(rest, 99) }
}

export async function exchangeLatency({ env, namespace, rounds, laptopName }) {
  const arms = [
    { name: 'normal pod (Service base)', url: 'http://base/', servedBy: 'base' },
    { name: 'laptop via ktx exchange (Service web)', url: 'http://web/', servedBy: laptopName },
  ]
  const samples = {}
  for (let r = 0; r < rounds; r++) {
    for (const arm of arms) {
      const result = await requests(env, namespace, arm.url, arm.servedBy)
      samples[arm.name] ??= { first: [], p50: [], p99: [] }
      for (const f of ['first', 'p50', 'p99']) samples[arm.name][f].push(result[f])
    }
  }
  const rows = []
  for (const [field, label] of [
    ['p50', `keep-alive GET from a cluster pod (${REQUESTS - 1} per round): p50`],
    ['p99', `keep-alive GET from a cluster pod (${REQUESTS - 1} per round): p99`],
    ['first', 'first GET of a connection (connection set-up included)'],
  ]) {
    for (const arm of arms) {
      rows.push({
        metric: `exchange: ${label}`,
        arm: arm.name,
        unit: 'ms',
        better: 'lower',
        stats: summary(samples[arm.name][field]),
        baseline: { arm: arms[0].name },
        ...(field === 'p50' ? { addedOver: arms[0].name } : {}),
      })
    }
  }
  return rows
}
