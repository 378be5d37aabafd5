// `npm run bench` (through bench/run.sh, which runs this as root in the laptop network namespace):
// brings up its own namespace and pods, runs every scenario for several rounds against baselines
// measured in the same run, writes bench/results.json and bench/results.md, and removes
// everything it made (namespace, sessions, processes), also when a scenario fails.
//
//   node bench/main.mjs [--rounds N] [--only connect,data,dns,exchange] [--out DIR] [--cpu-prof DIR]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

import { createFixtures, ktxLeftovers, loadEnv } from './lib/cluster.mjs'
import {
  BENCH_TUN,
  connectArgs,
  portForwardArgs,
  startConnect,
  startExchange,
  startPortForward,
} from './lib/ktx.mjs'
import { loadAverage, machine } from './lib/machine.mjs'
import { run, start, stop, waitForOutput } from './lib/proc.mjs'
import { writeReport } from './report.mjs'
import { bulk } from './scenarios/bulk.mjs'
import { connectTime, warmArgs } from './scenarios/connect-time.mjs'
import { dns, dnsperfArgs } from './scenarios/dns.mjs'
import { clientArgs, exchangeLatency } from './scenarios/exchange.mjs'
import { LOADS, latency, wrkArgs } from './scenarios/latency.mjs'
import { idleRss, shadowMemory } from './scenarios/memory.mjs'
import { newConnection } from './scenarios/new-connection.mjs'

const GROUPS = ['connect', 'data', 'dns', 'exchange']
const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: GROUPS.join(',') },
    out: { type: 'string', default: fileURLToPath(new URL('.', import.meta.url)) },
    'cpu-prof': { type: 'string' },
  },
})
const rounds = Number(flags.rounds)
const only = new Set(flags.only.split(','))
for (const g of only)
  if (!GROUPS.includes(g)) throw new Error(`--only: unknown group "${g}" (known: ${GROUPS.join(', ')})`)
if (!(rounds >= 1)) throw new Error(`--rounds must be a positive number, not "${flags.rounds}"`)

const log = (message) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const env = loadEnv()
const result = {
  date: new Date().toISOString(),
  rounds,
  machine: { ...(await machine(env)), loadAverageStart: loadAverage() },
  commands: {},
  rows: [],
}
const add = (group, rows) => result.rows.push(...rows.map((r) => ({ group, ...r })))

/** Processes of the cluster on this machine whose CPU carries every port-forward. */
async function clusterPids() {
  const pids = []
  for (const name of ['kube-apiserver', 'kubelet']) {
    const out = await run('pgrep', ['-x', name]).catch(() => '')
    pids.push(...out.split('\n').filter(Boolean).map(Number))
  }
  return pids
}

log('creating the namespace and pods')
const fixtures = await createFixtures(env)
const { namespace, webIP } = fixtures
const cleanups = []
try {
  // Without ktx the laptop reaches nothing in the cluster: every figure below is ktx's doing.
  const control = await run('curl', ['-sS', '--max-time', '3', `http://${webIP}:8080/`]).then(
    () => 'reached',
    (error) =>
      `not reachable (${String(error.message)
        .split('\n')[0]
        .replace(/^.*?: /, '')})`,
  )
  if (control === 'reached')
    throw new Error(`the laptop reaches ${webIP} without ktx: the bench would measure nothing of ktx`)
  result.negativeControl = `curl http://${webIP}:8080/ from the laptop namespace without ktx: ${control}`
  log(result.negativeControl)

  if (only.has('connect')) {
    log('connect time (cold and warm, socks and tun)')
    result.commands.connect = [
      `node packages/cli/bin/run.js ${connectArgs(env, namespace, 'socks').join(' ')}`,
      `node packages/cli/bin/run.js ${connectArgs(env, namespace, 'tun').join(' ')}`,
      `node ${warmArgs(env, namespace, 'socks|tun', rounds).join(' ')}`,
    ]
    add('connect', await connectTime({ env, namespace, rounds }))
  }

  if (only.has('data') || only.has('dns')) {
    const profArgs = flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`] : []
    log('starting ktx connect (socks, tun) and kubectl port-forward')
    const socks = await startConnect(env, namespace, 'socks', profArgs)
    cleanups.push(() => socks.close())
    const tun = await startConnect(env, namespace, 'tun', profArgs)
    cleanups.push(() => tun.close())
    const pf = await startPortForward(env, namespace, 'web', [8080, 8081])
    cleanups.push(() => pf.close())
    result.commands.baseline = `kubectl ${portForwardArgs(env, namespace, 'web', [8080, 8081]).join(' ')}`

    if (only.has('data')) {
      const names = { pf: 'kubectl port-forward', socks: 'ktx socks', tun: 'ktx tun' }
      const [socksHost, socksPort] = socks.socks.split(':')
      add(
        'memory',
        await idleRss([
          { name: names.pf, pid: pf.pid },
          { name: `${names.socks} (ktx connect process)`, pid: socks.pid },
          { name: `${names.tun} (ktx connect process)`, pid: tun.pid },
        ]),
      )
      const shadows = [
        { name: 'shadow pod of ktx socks', pod: socks.pod },
        { name: 'shadow pod of ktx tun', pod: tun.pod },
      ]
      add('memory', await shadowMemory(env, namespace, shadows, 'idle'))

      log('new connection time')
      add(
        'new-connection',
        await newConnection({
          rounds,
          arms: [
            { name: names.pf, host: '127.0.0.1', port: pf.local[0] },
            {
              name: names.socks,
              host: webIP,
              port: 8080,
              socks: { host: socksHost, port: Number(socksPort) },
            },
            { name: names.tun, host: webIP, port: 8080 },
          ],
        }),
      )

      log('request latency under wrk')
      result.commands.latency = LOADS.map(
        (load) => `BENCH_WAIT_MS=${load.waitMs} wrk ${wrkArgs(load, 'URL').join(' ')}`,
      )
      add(
        'latency',
        await latency({
          rounds,
          arms: [
            { name: names.pf, url: `http://127.0.0.1:${pf.local[0]}/`, path: '/' },
            {
              name: `${names.socks} (HTTP proxy)`,
              url: `http://${socks.http}/`,
              path: `http://${webIP}:8080/`,
            },
            { name: names.tun, url: `http://${webIP}:8080/`, path: '/' },
          ],
        }).then((rows) =>
          rows.map((r) => (r.arm === `${names.socks} (HTTP proxy)` ? { ...r, arm: names.socks } : r)),
        ),
      )

      log('bulk throughput')
      result.commands.bulk = [
        `curl -sS -o /dev/null -w '%{size_download} %{time_total}' http://127.0.0.1:<port-forward>/big.bin`,
        `curl … --socks5-hostname ${socks.socks} http://${webIP}:8081/big.bin`,
        `curl … http://${webIP}:8081/big.bin (through ${BENCH_TUN})`,
      ]
      add(
        'bulk',
        await bulk({
          rounds,
          clusterPids: await clusterPids(),
          arms: [
            { name: names.pf, url: `http://127.0.0.1:${pf.local[1]}/big.bin`, proxyArgs: [], pid: pf.pid },
            {
              name: names.socks,
              url: `http://${webIP}:8081/big.bin`,
              proxyArgs: ['--socks5-hostname', socks.socks],
              pid: socks.pid,
            },
            { name: names.tun, url: `http://${webIP}:8081/big.bin`, proxyArgs: [], pid: tun.pid },
          ],
        }),
      )
      add('memory', await shadowMemory(env, namespace, shadows, 'after the bulk runs'))
    }

    if (only.has('dns')) {
      log('DNS through the local server')
      result.commands.dns = `dnsperf ${dnsperfArgs(tun.dns, 'NAMES', 4).join(' ')}`
      add('dns', await dns({ server: tun.dns, upstream: `${env.LAPTOP_UPSTREAM_DNS}:53`, namespace, rounds }))
    }
    while (cleanups.length > 0) await cleanups.pop()()
  }

  if (only.has('exchange')) {
    log('exchange latency')
    const laptop = start(env.TESTSERVER, [
      'serve',
      '--name',
      'laptop',
      '--http',
      '127.0.0.1:3001',
      '--grpc',
      '',
    ])
    cleanups.push(() => stop(laptop, 'SIGTERM'))
    await waitForOutput(laptop, /^listening /m, 10_000, 'ktx-testserver on the laptop')
    const exchange = await startExchange(env, namespace, 'web', '3001:8080')
    cleanups.push(() => exchange.close())
    result.commands.exchange = [
      `node packages/cli/bin/run.js ${exchange.args.join(' ')}`,
      `kubectl ${clientArgs(namespace, 'http://web/ | http://base/').join(' ')}`,
    ]
    add('exchange', await exchangeLatency({ env, namespace, rounds, laptopName: 'laptop' }))
    while (cleanups.length > 0) await cleanups.pop()()
  }

  const left = await ktxLeftovers(env, namespace)
  const links = await run('ip', ['-o', 'link', 'show']).then((o) =>
    o.split('\n').filter((l) => l.includes(BENCH_TUN)),
  )
  result.leftovers = [...left, ...links]
  if (result.leftovers.length > 0)
    throw new Error(`ktx left something behind: ${result.leftovers.join(', ')}`)
} finally {
  while (cleanups.length > 0)
    await cleanups
      .pop()()
      .catch((error) => log(`clean-up: ${error.message}`))
  log(`deleting ${namespace}`)
  await fixtures.close().catch((error) => log(`deleting ${namespace}: ${error.message}`))
}
result.machine.loadAverageEnd = loadAverage()

mkdirSync(flags.out, { recursive: true })
writeFileSync(join(flags.out, 'results.json'), JSON.stringify(result, null, 2) + '\n')
writeFileSync(join(flags.out, 'results.md'), writeReport(result))
log(`wrote ${join(flags.out, 'results.md')} and results.json`)
