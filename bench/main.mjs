// `npm run bench` (through bench/run.sh, which runs this as root in the laptop network namespace):
// brings up its own namespace and pods, runs every scenario for several rounds against baselines
// measured in the same run, writes bench/results.json and bench/results.md, and removes
// everything it made (namespace, sessions, processes), also when a scenario fails.
//
//   node bench/main.mjs [--rounds N] [--only connect,memory,new-connection,latency,bulk,dns,exchange,mesh] [--out DIR] [--cpu-prof DIR] [--delay-ms MS]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

import { createFixtures, delayedKubeconfig, ktxLeftovers, loadEnv } from './lib/cluster.mjs'
import { BENCH_TUN, connectArgs, startServiceSession } from './lib/ktx.mjs'
import { loadAverage, machine } from './lib/machine.mjs'
import { interrupt, isInterrupted, run, start, stop, waitForOutput } from './lib/proc.mjs'
import { dataPath } from './data-path.mjs'
import { writeReport } from './report.mjs'
import { connectTime, warmArgs } from './scenarios/connect-time.mjs'
import { clientArgs, exchangeLatency } from './scenarios/exchange.mjs'
import { MESH_MARK, meshLatency } from './scenarios/mesh.mjs'

const GROUPS = ['connect', 'memory', 'new-connection', 'latency', 'bulk', 'dns', 'exchange', 'mesh']
const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: GROUPS.join(',') },
    out: { type: 'string', default: fileURLToPath(new URL('.', import.meta.url)) },
    'cpu-prof': { type: 'string' },
    'delay-ms': { type: 'string' },
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
// A cluster further away (lib/delay-proxy.mjs): everything below reaches the API server through it.
const delayMs = flags['delay-ms'] === undefined ? undefined : Number(flags['delay-ms'])
if (delayMs !== undefined && !(delayMs >= 0))
  throw new Error(`--delay-ms must be ≥ 0, not "${flags['delay-ms']}"`)
const delay = delayMs === undefined ? undefined : await delayedKubeconfig(env, delayMs)
if (delay) env.KUBECONFIG_LAPTOP = delay.kubeconfig
// The library calls (pod start, warm connects) use the laptop's kubeconfig, like the CLI sessions.
process.env.KUBECONFIG = env.KUBECONFIG_LAPTOP
const result = {
  date: new Date().toISOString(),
  rounds,
  machine: { ...(await machine(env)), loadAverageStart: loadAverage() },
  commands: {},
  ...(delay
    ? {
        network: `every API server connection crosses bench/lib/delay-proxy.mjs, +${delayMs} ms per round trip (${delayMs / 2} ms each way; at most 8 MiB in flight per connection and direction)`,
      }
    : {}),
  rows: [],
}
const add = (group, rows) => result.rows.push(...rows.map((r) => ({ group, ...r })))

// Ctrl+C / SIGTERM: the same clean-up as a normal end. Every child is stopped once (the ktx
// sessions close as on Ctrl+C), nothing new starts, the scenario in progress fails, and the
// finally blocks below close what is left and delete the namespace; then exit 130 with no results.
for (const name of ['SIGINT', 'SIGTERM'])
  process.on(name, () =>
    log(
      interrupt()
        ? `${name}: stopping; closing the sessions and deleting the namespace as at a normal end`
        : `${name}: still cleaning up`,
    ),
  )

log('creating the namespace and pods')
let fixtures
const cleanups = []
try {
  fixtures = await createFixtures(env)
  const { namespace, webIP } = fixtures
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

  if (['memory', 'new-connection', 'latency', 'bulk', 'dns'].some((g) => only.has(g))) {
    const profile = flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`] : []
    await dataPath({ env, namespace, webIP, only, rounds, commands: result.commands, add, profile, log })
  }

  // Cluster traffic to the laptop: a testserver here, reached through `ktx exchange` or `ktx mesh`.
  const toLaptop = [
    {
      group: 'exchange',
      extra: [],
      measure: exchangeLatency,
      urls: 'http://web/ | http://base/',
    },
    {
      group: 'mesh',
      extra: ['--versionMark', MESH_MARK],
      measure: meshLatency,
      urls: `http://web/ [--header 'VERSION: ${MESH_MARK}'] | http://base/`,
    },
  ].filter((s) => only.has(s.group))
  if (toLaptop.length > 0) {
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
    for (const scenario of toLaptop) {
      log(`${scenario.group} latency`)
      const session = await startServiceSession(
        env,
        scenario.group,
        namespace,
        'web',
        '3001:8080',
        scenario.extra,
      )
      cleanups.push(() => session.close())
      result.commands[scenario.group] = [
        `node packages/cli/bin/run.js ${session.args.join(' ')}`,
        `kubectl ${clientArgs(namespace, scenario.urls).join(' ')}`,
      ]
      add(scenario.group, await scenario.measure({ env, namespace, rounds, laptopName: 'laptop' }))
      await cleanups.pop()()
    }
    while (cleanups.length > 0) await cleanups.pop()()
  }

  const left = await ktxLeftovers(env, namespace)
  const links = await run('ip', ['-o', 'link', 'show']).then((o) =>
    o.split('\n').filter((l) => l.includes(BENCH_TUN)),
  )
  result.leftovers = [...left, ...links]
  if (result.leftovers.length > 0)
    throw new Error(`ktx left something behind: ${result.leftovers.join(', ')}`)
} catch (error) {
  if (!isInterrupted()) throw error
} finally {
  while (cleanups.length > 0)
    await cleanups
      .pop()()
      .catch((error) => log(`clean-up: ${error.message}`))
  if (fixtures) {
    log(`deleting ${fixtures.namespace}`)
    await fixtures.close().catch((error) => log(`deleting ${fixtures.namespace}: ${error.message}`))
  }
  await delay?.close()
}
if (isInterrupted()) {
  log('interrupted: everything the run made is removed; no results written')
  process.exit(130)
}
result.machine.loadAverageEnd = loadAverage()

mkdirSync(flags.out, { recursive: true })
writeFileSync(join(flags.out, 'results.json'), JSON.stringify(result, null, 2) + '\n')
writeFileSync(join(flags.out, 'results.md'), writeReport(result))
log(`wrote ${join(flags.out, 'results.md')} and results.json`)
