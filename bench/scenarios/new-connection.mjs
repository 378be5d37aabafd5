// Time to open a new tunnelled connection: connect, one small GET, close (`Connection: close`), in
// a loop, per arm. p50 and p99 per round. The SOCKS arm does its SOCKS5 handshake each time, as a
// proxied client would. Interleaved per round.
import http from 'node:http'
import { performance } from 'node:perf_hooks'

import { TunnelHttpAgent } from '@ktx/core/tunnel'

import { percentile, summary } from '../lib/stats.mjs'

const PER_ROUND = 200
const WARMUP = 20

function get(target) {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, path: '/', headers: { connection: 'close' } }, (res) => {
      res.resume()
      res.on('end', resolve)
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

async function loop(target, count) {
  const times = []
  for (let i = 0; i < count; i++) {
    const begin = performance.now()
    await get(target)
    times.push(performance.now() - begin)
  }
  return times.sort((a, b) => a - b)
}

/** arms: [{ name, host, port, socks?: { host, port } }]. */
export async function newConnection({ arms, rounds }) {
  const targets = arms.map((arm) => ({
    arm,
    target: {
      host: arm.host,
      port: arm.port,
      agent: arm.socks ? new TunnelHttpAgent(arm.socks) : false,
    },
  }))
  for (const { target } of targets) await loop(target, WARMUP)
  const p50 = {}
  const p99 = {}
  for (let r = 0; r < rounds; r++) {
    for (const { arm, target } of targets) {
      const times = await loop(target, PER_ROUND)
      ;(p50[arm.name] ??= []).push(percentile(times, 50))
      ;(p99[arm.name] ??= []).push(percentile(times, 99))
    }
  }
  for (const { target } of targets) target.agent?.destroy?.()
  const rows = []
  for (const [metric, values] of [
    [`new connection + GET + close (${PER_ROUND} per round): p50`, p50],
    [`new connection + GET + close (${PER_ROUND} per round): p99`, p99],
  ]) {
    for (const { arm } of targets) {
      rows.push({
        metric,
        arm: arm.name,
        unit: 'ms',
        better: 'lower',
        stats: summary(values[arm.name]),
        baseline: { arm: 'kubectl port-forward' },
      })
    }
  }
  return rows
}
