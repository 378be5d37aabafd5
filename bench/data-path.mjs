// The data-path scenarios over one set of sessions: `ktx connect` in socks and in tun mode and the
// baseline `kubectl port-forward`, all to the same target pod, started here and closed here (also
// when a scenario fails). Which scenarios run is `only`.
import { podPids, podUid } from './lib/cluster.mjs'
import { BENCH_TUN, portForwardArgs, startConnect, startPortForward } from './lib/ktx.mjs'
import { fileURLToPath } from 'node:url'

import { run, start, stop, waitForOutput } from './lib/proc.mjs'
import { bulk } from './scenarios/bulk.mjs'
import { PACED_RATES, dns, dnsperfArgs } from './scenarios/dns.mjs'
import { LOADS, latency, wrkArgs } from './scenarios/latency.mjs'
import { idleRss, shadowMemory } from './scenarios/memory.mjs'
import { newConnection } from './scenarios/new-connection.mjs'

/** Processes of the cluster on this machine whose CPU carries every port-forward. */
async function clusterPids() {
  const pids = []
  for (const name of ['kube-apiserver', 'kubelet']) {
    const out = await run('pgrep', ['-x', name]).catch(() => '')
    pids.push(...out.split('\n').filter(Boolean).map(Number))
  }
  return pids
}

const NAMES = {
  pf: 'kubectl port-forward',
  socks: 'ktx socks',
  socksSsh: 'ktx socks --dataPath ssh (every connection an SSH channel)',
  tun: 'ktx tun',
  ws: "ktx's port-forward code, no SSH (one WebSocket per connection)",
}
const WS_FORWARD = fileURLToPath(new URL('./lib/ws-forward.mjs', import.meta.url))

/** The no-SSH alternative (lib/ws-forward.mjs) to the pod's bulk port. */
async function startWsForward(namespace) {
  const proc = start(process.execPath, [WS_FORWARD, namespace, 'web', '8081'])
  const match = await waitForOutput(proc, /^listening (\d+)$/m, 30_000, 'ws-forward')
  return { pid: proc.child.pid, port: Number(match[1]), close: () => stop(proc, 'SIGTERM') }
}

export async function dataPath({ env, namespace, webIP, only, rounds, commands, add, profile, log }) {
  const cleanups = []
  try {
    log('starting ktx connect (socks, tun) and kubectl port-forward')
    const socks = await startConnect(env, namespace, 'socks', profile)
    cleanups.push(() => socks.close())
    const tun = await startConnect(env, namespace, 'tun', profile)
    cleanups.push(() => tun.close())
    // The data path before the direct one, side by side with it where it differs most.
    const socksSsh =
      only.has('bulk') || only.has('new-connection')
        ? await startConnect(env, namespace, 'socks', profile, ['--dataPath', 'ssh'])
        : undefined
    if (socksSsh) cleanups.push(() => socksSsh.close())
    const socksSshAddress = socksSsh?.socks.split(':')
    const pf = await startPortForward(env, namespace, 'web', [8080, 8081])
    cleanups.push(() => pf.close())
    commands.baseline = `kubectl ${portForwardArgs(env, namespace, 'web', [8080, 8081]).join(' ')}`
    const shadows = [
      { name: 'shadow pod of ktx socks', pod: socks.pod },
      { name: 'shadow pod of ktx tun', pod: tun.pod },
    ]
    const [socksHost, socksPort] = socks.socks.split(':')

    if (only.has('memory')) {
      log('idle memory')
      add(
        'memory',
        await idleRss([
          { name: NAMES.pf, pid: pf.pid },
          { name: `${NAMES.socks} (ktx connect process)`, pid: socks.pid },
          { name: `${NAMES.tun} (ktx connect process)`, pid: tun.pid },
        ]),
      )
      add('memory', await shadowMemory(env, namespace, shadows, 'idle'))
    }

    if (only.has('new-connection')) {
      log('new connection time')
      add(
        'new-connection',
        await newConnection({
          rounds,
          arms: [
            { name: NAMES.pf, host: '127.0.0.1', port: pf.local[0] },
            {
              name: NAMES.socks,
              host: webIP,
              port: 8080,
              socks: { host: socksHost, port: Number(socksPort) },
            },
            { name: NAMES.tun, host: webIP, port: 8080 },
            {
              name: NAMES.socksSsh,
              host: webIP,
              port: 8080,
              socks: { host: socksSshAddress[0], port: Number(socksSshAddress[1]) },
            },
          ],
        }),
      )
    }

    if (only.has('latency')) {
      log('request latency under wrk')
      commands.latency = LOADS.map(
        (load) => `BENCH_WAIT_MS=${load.waitMs} wrk ${wrkArgs(load, 'URL').join(' ')}`,
      )
      add(
        'latency',
        await latency({
          rounds,
          arms: [
            { name: NAMES.pf, url: `http://127.0.0.1:${pf.local[0]}/`, path: '/' },
            // wrk speaks no SOCKS: socks mode is reached through its HTTP proxy, absolute-URI requests.
            { name: NAMES.socks, url: `http://${socks.http}/`, path: `http://${webIP}:8080/` },
            { name: NAMES.tun, url: `http://${webIP}:8080/`, path: '/' },
          ],
        }),
      )
    }

    if (only.has('bulk')) {
      log('bulk throughput')
      const ws = await startWsForward(namespace)
      cleanups.push(() => ws.close())
      commands.bulk = [
        `curl -sS -o /dev/null -w '%{size_download} %{time_total}' http://127.0.0.1:<port-forward>/big.bin`,
        `curl … --socks5-hostname ${socks.socks} http://${webIP}:8081/big.bin`,
        `curl … http://${webIP}:8081/big.bin (through ${BENCH_TUN})`,
        `node bench/lib/ws-forward.mjs ${namespace} web 8081; curl … http://127.0.0.1:<its port>/big.bin`,
      ]
      add(
        'bulk',
        await bulk({
          rounds,
          clusterPids: await clusterPids(),
          arms: [
            {
              name: NAMES.pf,
              url: `http://127.0.0.1:${pf.local[1]}/big.bin`,
              proxyArgs: [],
              pid: pf.pid,
              podPids: [],
            },
            {
              name: NAMES.socks,
              url: `http://${webIP}:8081/big.bin`,
              proxyArgs: ['--socks5-hostname', socks.socks],
              pid: socks.pid,
              podPids: podPids(await podUid(env, namespace, socks.pod)),
            },
            {
              name: NAMES.tun,
              url: `http://${webIP}:8081/big.bin`,
              proxyArgs: [],
              pid: tun.pid,
              podPids: podPids(await podUid(env, namespace, tun.pod)),
            },
            {
              name: NAMES.socksSsh,
              url: `http://${webIP}:8081/big.bin`,
              proxyArgs: ['--socks5-hostname', socksSsh.socks],
              pid: socksSsh.pid,
              podPids: podPids(await podUid(env, namespace, socksSsh.pod)),
            },
            {
              name: NAMES.ws,
              url: `http://127.0.0.1:${ws.port}/big.bin`,
              proxyArgs: [],
              pid: ws.pid,
              podPids: [],
            },
          ],
        }),
      )
      add('memory', await shadowMemory(env, namespace, shadows, 'after the bulk runs'))
    }

    if (only.has('dns')) {
      log('DNS through the local server')
      commands.dns = [undefined, ...PACED_RATES].map(
        (rate) => `dnsperf ${dnsperfArgs(tun.dns, 'NAMES', 4, rate).join(' ')}`,
      )
      add('dns', await dns({ server: tun.dns, upstream: `${env.LAPTOP_UPSTREAM_DNS}:53`, namespace, rounds }))
    }
  } finally {
    while (cleanups.length > 0) await cleanups.pop()()
  }
}
