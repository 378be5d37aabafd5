// Turns a run's result into bench/results.md: machine and versions, the exact commands, one table
// per scenario (min/median/max and the ratio of medians to the row's baseline, from the same run),
// and the issue's targets, each met or missed. Run alone it rewrites results.md from a results.json:
//
//   node bench/report.mjs [bench/results.json]
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { ratio, round } from './lib/stats.mjs'

const TITLES = {
  connect: 'Connect time to ready',
  memory: 'Memory',
  'new-connection': 'Time to open a new tunnelled connection',
  latency: 'Request latency under wrk (paced)',
  bulk: 'Bulk throughput and CPU cost',
  dns: 'DNS through the local server',
  exchange: 'Exchange: a cluster pod calling the laptop',
  mesh: 'Mesh: a cluster pod calling the laptop with its version mark, and the real pod without',
}

function baselineOf(rows, row) {
  if (!row.baseline) return undefined
  const metric = row.baseline.metric ?? row.metric
  return rows.find((r) => r.metric === metric && r.arm === row.baseline.arm)
}

/** Every row with its ratio (median / baseline median) and, where asked, the added median. */
export function withRatios(rows) {
  return rows.map((row) => {
    const base = baselineOf(rows, row)
    return {
      ...row,
      isBaseline: base === row,
      ratio: base && base !== row ? ratio(row.stats.median, base.stats.median) : null,
      ...(row.addedOver && base && base !== row
        ? { added: round(row.stats.median - base.stats.median) }
        : {}),
    }
  })
}

const median = (rows, metric, arm) => rows.find((r) => r.metric.startsWith(metric) && r.arm.startsWith(arm))

/** The issue's targets against this run. `value` undefined: the scenario did not run. */
export function targets(rows) {
  const t = []
  const check = (what, row, value, ok, shown) =>
    t.push({ target: what, value: row ? shown(value) : 'not run', met: row ? ok(value) : null })
  for (const arm of ['ktx tun', 'ktx socks']) {
    const one = median(rows, 'bulk download, 1 stream', arm)
    check(
      `${arm} bulk, 1 stream ≥ 0.8 of plain port-forward`,
      one,
      one?.ratio,
      (v) => v >= 0.8,
      (v) => `${v}×`,
    )
    const four = median(rows, 'bulk download, 4 streams', arm)
    check(
      `${arm} bulk, 4 streams ≥ 1.0 of one port-forward stream`,
      four,
      four?.ratio,
      (v) => v >= 1.0,
      (v) => `${v}×`,
    )
    const p50 = median(rows, 'wrk moderate load', arm)
    const added = rows.find(
      (r) => r.metric.startsWith('wrk moderate load') && r.metric.endsWith(': p50') && r.arm === arm,
    )
    check(
      `${arm} added p50 per request at moderate load ≤ 0.5 ms`,
      p50 && added,
      added?.added,
      (v) => v <= 0.5,
      (v) => `${v} ms`,
    )
    const nc = rows.find(
      (r) => r.metric.startsWith('new connection') && r.metric.endsWith('p50') && r.arm === arm,
    )
    check(
      `${arm} new tunnelled connection p50 ≤ 2 ms`,
      nc,
      nc?.stats.median,
      (v) => v <= 2,
      (v) => `${v} ms`,
    )
  }
  for (const mode of ['socks', 'tun']) {
    const warm = median(rows, 'connect time to ready', `ktx connect --mode ${mode}, warm`)
    check(
      `warm connect (${mode}) ≤ 1.5 s`,
      warm,
      warm?.stats.median,
      (v) => v <= 1500,
      (v) => `${round(v, 0)} ms`,
    )
    const cold = median(rows, 'connect time to ready', `ktx connect --mode ${mode}, cold`)
    check(
      `cold connect (${mode}) ≤ pod start + 1 s`,
      cold,
      cold?.added,
      (v) => v <= 1000,
      (v) => `pod start + ${round(v, 0)} ms`,
    )
  }
  // The rate from the max-rate arm; the answer time from the arm paced at 10k q/s (at the maximum
  // rate p99 is the queue of a saturated machine), shown with the rate that arm reached.
  const qps = median(rows, 'DNS cached cluster name, max rate: queries per second', 'ktx')
  check(
    'cached DNS ≥ 10k q/s (max rate)',
    qps,
    qps?.stats.median,
    (v) => v >= 10_000,
    (v) => `${round(v, 0)} q/s`,
  )
  const p99 = median(rows, 'DNS cached cluster name, paced 10000 q/s: p99', 'ktx')
  const reached = median(rows, 'DNS cached cluster name, paced 10000 q/s: queries per second', 'ktx')
  check(
    'cached DNS p99 ≤ 2 ms at 10k q/s (paced; the rate must be reached)',
    p99 && reached,
    { p99: p99?.stats.median, qps: reached?.stats.median },
    (v) => v.p99 <= 2 && v.qps >= 9_500,
    (v) => `${v.p99} ms at ${round(v.qps, 0)} q/s`,
  )
  for (const arm of ['ktx socks', 'ktx tun']) {
    const rss = median(rows, 'RSS idle', arm)
    check(
      `idle RSS (${arm}) ≤ 80 MB`,
      rss,
      rss?.stats.median,
      (v) => v <= 80,
      (v) => `${round(v, 1)} MB`,
    )
  }
  return t
}

const fmt = (v) =>
  v === null || v === undefined ? '—' : typeof v === 'number' ? String(round(v, v >= 100 ? 0 : 3)) : v

function table(rows) {
  const lines = [
    '| figure | arm | unit | min | median | max | rounds | ratio to baseline | baseline |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const r of rows) {
    const base = r.isBaseline
      ? '(this is the baseline)'
      : r.baseline
        ? `${r.baseline.arm}${r.added !== undefined ? ` (added ${fmt(r.added)} ${r.unit})` : ''}`
        : '—'
    lines.push(
      `| ${r.metric} | ${r.arm} | ${r.unit} | ${fmt(r.stats.min)} | ${fmt(r.stats.median)} | ${fmt(r.stats.max)} | ${r.stats.rounds} | ${r.ratio === null ? '—' : `${r.ratio}×`} | ${base} |`,
    )
    if (r.note) lines[lines.length - 1] += ` ${r.note}`
  }
  return lines.join('\n')
}

export function writeReport(result) {
  const rows = withRatios(result.rows)
  result.rows = rows
  result.targets = targets(rows)
  const m = result.machine
  const out = [
    '# ktx benchmarks',
    '',
    `Written by \`npm run bench\` (bench/main.mjs) on ${result.date}, ${result.rounds} rounds per scenario, arms interleaved within each round.`,
    `**Figures were taken on a shared 2-core machine** (${m.shared}); read ratios, not absolutes. Load average at the start ${m.loadAverageStart.join(' / ')}, at the end ${m.loadAverageEnd.join(' / ')}.`,
    '',
    '## Machine and versions',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores, AES instructions: ${m.aesHardware ? 'yes' : 'no'}; ${m.memoryGiB} GiB; Linux ${m.kernel}`,
    ...Object.entries(m.versions).map(([k, v]) => `- ${k}: ${v}`),
    `- the cluster: the repository's local single-node Kubernetes (test/cluster); the client side runs in the laptop network namespace, whose only way in is the API server`,
    '',
    ...(result.network ? [`Network: ${result.network}.`, ''] : []),
    `Negative control: ${result.negativeControl}.`,
    `Left behind after the sessions closed (ktx-managed objects in the namespace, the TUN device): ${result.leftovers?.length ? result.leftovers.join(', ') : 'nothing'}. The namespace and the bench's network namespace are deleted at the end.`,
    '',
    '## Targets (issue 12)',
    '',
    '| target | this run | met |',
    '|---|---|---|',
    ...result.targets.map(
      (t) => `| ${t.target} | ${t.value} | ${t.met === null ? '—' : t.met ? 'yes' : '**no**'} |`,
    ),
    '',
  ]
  for (const [group, title] of Object.entries(TITLES)) {
    const groupRows = rows.filter((r) => r.group === group)
    if (groupRows.length === 0) continue
    out.push(`## ${title}`, '', table(groupRows), '')
  }
  out.push('## Exact commands', '', '```')
  for (const [k, v] of Object.entries(result.commands))
    for (const line of [v].flat()) out.push(`# ${k}`, line)
  out.push('```', '')
  out.push(
    'What bounds each missed target, with the profile or measurement that shows it: bench/README.md, "Findings".',
    '',
  )
  return out.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? fileURLToPath(new URL('./results.json', import.meta.url))
  const result = JSON.parse(readFileSync(file, 'utf8'))
  writeFileSync(file.replace(/\.json$/, '.md'), writeReport(result))
}
