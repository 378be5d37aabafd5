// Side-by-side: HTTP to one pod through a ktx socks session vs through a plain `kubectl port-forward`
// to the same pod, from the same client process, in the same run. Run it inside the laptop namespace
// (bench/run.sh does), so both paths cross the API server and the kubelet.
//
//   node bench/tunnel-vs-port-forward.mjs <namespace> <pod> <shadow-image> [rounds]
//
// Prints one JSON object: per path, new-connection request latency (p50/p90/p99, ms) and bulk
// download throughput (MB/s, median of runs), and the ktx/port-forward ratios.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { performance } from 'node:perf_hooks'

import { connect } from '@ktx/core'

const [namespace, pod, image, roundsArg] = process.argv.slice(2)
if (!namespace || !pod || !image) {
  console.error('usage: tunnel-vs-port-forward.mjs <namespace> <pod> <shadow-image> [rounds]')
  process.exit(2)
}
const rounds = Number(roundsArg ?? 300)
const bulkRuns = 5
const kubectl = process.env.KUBECTL ?? 'kubectl'

/** One GET on a fresh connection; resolves with the body length. */
function get(options) {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...options, headers: { connection: 'close' } }, (res) => {
      let length = 0
      res.on('data', (chunk) => (length += chunk.length))
      res.on('end', () => resolve(length))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function measure(label, target) {
  try {
    return await measureUnchecked(label, target)
  } catch (error) {
    throw new Error(`${label}: ${error.message}`, { cause: error })
  }
}

async function measureUnchecked(label, target) {
  // Warm both paths the same way before timing.
  for (let i = 0; i < 20; i++) await get({ ...target, path: '/index.html' })
  const latencies = []
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    await get({ ...target, path: '/index.html' })
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)
  const rates = []
  for (let i = 0; i < bulkRuns; i++) {
    const start = performance.now()
    const bytes = await get({ ...target, path: '/big.bin' })
    rates.push(bytes / 1e6 / ((performance.now() - start) / 1000))
  }
  rates.sort((a, b) => a - b)
  return {
    label,
    requests: rounds,
    p50Ms: +percentile(latencies, 50).toFixed(2),
    p90Ms: +percentile(latencies, 90).toFixed(2),
    p99Ms: +percentile(latencies, 99).toFixed(2),
    bulkMBps: +percentile(rates, 50).toFixed(1),
  }
}

function startPortForward() {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, ['-n', namespace, 'port-forward', `pod/${pod}`, ':8080'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let seen = ''
    child.stdout.on('data', (chunk) => {
      seen += chunk
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(seen)
      if (match) resolve({ child, port: Number(match[1]) })
    })
    child.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}`)))
  })
}

const podIP = await new Promise((resolve, reject) => {
  const child = spawn(kubectl, ['-n', namespace, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}'])
  let out = ''
  child.stdout.on('data', (c) => (out += c))
  child.once('exit', (code) =>
    code === 0 ? resolve(out.trim()) : reject(new Error('kubectl get pod failed')),
  )
})

const connectStart = performance.now()
const session = await connect({ mode: 'socks', image, kube: { namespace } })
const connectMs = performance.now() - connectStart
const forward = await startPortForward()
try {
  // Interleave the two paths' runs so that machine noise hits both alike.
  const ktxA = await measure('ktx socks session', { host: podIP, port: 8080, agent: session.httpAgent })
  const pfA = await measure('kubectl port-forward', { host: '127.0.0.1', port: forward.port })
  const ktxB = await measure('ktx socks session', { host: podIP, port: 8080, agent: session.httpAgent })
  const pfB = await measure('kubectl port-forward', { host: '127.0.0.1', port: forward.port })
  const best = (a, b) => ({
    ...a,
    p50Ms: Math.min(a.p50Ms, b.p50Ms),
    p90Ms: Math.min(a.p90Ms, b.p90Ms),
    p99Ms: Math.min(a.p99Ms, b.p99Ms),
    bulkMBps: Math.max(a.bulkMBps, b.bulkMBps),
  })
  const ktx = best(ktxA, ktxB)
  const pf = best(pfA, pfB)
  console.log(
    JSON.stringify(
      {
        connectMs: Math.round(connectMs),
        ktx,
        portForward: pf,
        ratios: {
          p50Latency: +(ktx.p50Ms / pf.p50Ms).toFixed(2),
          p99Latency: +(ktx.p99Ms / pf.p99Ms).toFixed(2),
          bulkThroughput: +(ktx.bulkMBps / pf.bulkMBps).toFixed(2),
        },
      },
      null,
      2,
    ),
  )
} finally {
  forward.child.kill('SIGINT')
  await session.close()
}
