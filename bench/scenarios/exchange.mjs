// Requests from a cluster pod, for the scenarios that bring cluster traffic to the laptop: the
// client pod runs ktx-testserver http-client (keep-alive GETs on one connection, one JSON line per
// response with its latency and who served it); the first request (the connection's set-up) is
// kept apart. Arms are interleaved within each round.
//
// Exchange: Service `web`, exchanged to a ktx-testserver on the laptop, vs Service `base` of a
// normal pod. (Mesh, the same requests through the mesh router: mesh.mjs.)
import { kubectl } from '../lib/cluster.mjs'
import { percentile, summary } from '../lib/stats.mjs'

const REQUESTS = 300
/** The baseline arm of both scenarios: a normal pod behind its Service. */
export const NORMAL_POD = { name: 'normal pod (Service base)', url: 'http://base/', servedBy: 'base' }

export function clientArgs(namespace, url, header, count = REQUESTS) {
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
    String(count),
    '--url',
    url,
    ...(header ? ['--header', header] : []),
  ]
}

async function get(env, namespace, arm, count) {
  const out = await kubectl(env, clientArgs(namespace, arm.url, arm.header, count))
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}

async function requests(env, namespace, arm) {
  const lines = await get(env, namespace, arm, REQUESTS)
  if (lines.length !== REQUESTS) throw new Error(`${arm.url}: ${lines.length} answers of ${REQUESTS}`)
  const wrong = lines.find((l) => l.status !== 200 || l.servedBy !== arm.servedBy)
  if (wrong)
    throw new Error(
      `${arm.url}: answered by ${wrong.servedBy} (status ${wrong.status}), expected ${arm.servedBy}`,
    )
  const first = lines.find((l) => l.request === 1).latencyUs / 1000
  const rest = lines
    .filter((l) => l.request !== 1)
    .map((l) => l.latencyUs / 1000)
    .sort((a, b) => a - b)
  return { first, p50: percentile(rest, 50), p99: percentile(rest, 99) }
}

/** Until one GET of every arm is answered by whom it should be (a new route can 502 at first). */
export async function waitRouted(env, namespace, arms, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (const arm of arms) {
    for (;;) {
      const [line] = await get(env, namespace, arm, 1).catch(() => [])
      if (line?.status === 200 && line.servedBy === arm.servedBy) break
      if (Date.now() > deadline)
        throw new Error(`${arm.url}: not answered by ${arm.servedBy} within ${timeoutMs} ms`)
      await new Promise((resolve) => globalThis.setTimeout(resolve, 500))
    }
  }
}

/**
 * p50/p99 of keep-alive GETs and the first GET, per arm (`{ name, url, servedBy, header? }`),
 * `rounds` rounds; rows named `<scenario>: …`, held against `arms[0]`.
 */
export async function podClientLatency({ env, namespace, rounds, arms, scenario }) {
  const samples = {}
  for (let r = 0; r < rounds; r++) {
    for (const arm of arms) {
      const result = await requests(env, namespace, arm)
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
        metric: `${scenario}: ${label}`,
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

export async function exchangeLatency({ env, namespace, rounds, laptopName }) {
  const arms = [
    NORMAL_POD,
    { name: 'laptop via ktx exchange (Service web)', url: 'http://web/', servedBy: laptopName },
  ]
  return podClientLatency({ env, namespace, rounds, arms, scenario: 'exchange' })
}
