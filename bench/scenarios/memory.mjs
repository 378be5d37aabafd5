// Memory: RSS of each forwarding process while idle (median of samples over a short window, no
// traffic), and the shadow pods' memory (their processes' RSS) idle or after load.
import { setTimeout } from 'node:timers/promises'

import { podRssMB, podUid } from '../lib/cluster.mjs'
import { rssMB } from '../lib/proc.mjs'
import { summary } from '../lib/stats.mjs'

const WINDOW_MS = 2_000
const SAMPLES = 10

/** RSS samples of each pid over the window; ktx's idle timers (lease renewal, keepalive) included. */
export async function idleRss(arms) {
  const samples = Object.fromEntries(arms.map((a) => [a.name, []]))
  for (let i = 0; i < SAMPLES; i++) {
    for (const arm of arms) samples[arm.name].push(rssMB(arm.pid))
    await setTimeout(WINDOW_MS / SAMPLES)
  }
  return arms.map((arm) => ({
    metric: 'RSS idle (connected, no traffic)',
    arm: arm.name,
    unit: 'MB',
    better: 'lower',
    stats: summary(samples[arm.name]),
    baseline: { arm: 'kubectl port-forward' },
  }))
}

/** The shadow pods' memory now: `when` says idle or after load. */
export async function shadowMemory(env, namespace, pods, when) {
  const rows = []
  for (const { name, pod } of pods) {
    const memory = podRssMB(await podUid(env, namespace, pod))
    rows.push({
      metric: `shadow pod memory ${when} (RSS of its processes)`,
      arm: name,
      unit: 'MB',
      better: 'lower',
      stats: summary([memory.rssMB]),
      note: `${memory.processes} processes`,
    })
  }
  return rows
}
