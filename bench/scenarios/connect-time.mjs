// Connect time to ready, per mode: cold = a new `ktx connect` process (node start, module load,
// then the session: new shadow pod, image already on the node) from spawn to its "Press Ctrl+C"
// line; warm = connect() again in a process that already connected once (connect-warm.mjs). The
// baseline is the pod start itself: the same shadow pod manifest created through the API and
// watched to Ready, with nothing else, in the same run.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import { noopLogger } from '@ktx/core'
import { createKube, createShadowPod, deletePodAndWait, waitPodReady } from '@ktx/core/kube'
import { generateSessionKey } from '@ktx/core/tunnel'

import { BENCH_TUN, startConnect } from '../lib/ktx.mjs'
import { run } from '../lib/proc.mjs'
import { summary } from '../lib/stats.mjs'

const WARM = fileURLToPath(new URL('./connect-warm.mjs', import.meta.url))

/** The shadow pod alone: create → Ready (watched), then deleted. */
async function podStart(env, namespace, round) {
  const kube = createKube({ namespace })
  const name = `ktx-bench-podstart-${round}`
  const begin = performance.now()
  const created = await createShadowPod(kube, {
    name,
    namespace,
    sessionId: undefined,
    owner: 'bench',
    image: env.SHADOW_IMAGE,
    authorizedKey: generateSessionKey('bench').publicKey,
  })
  await waitPodReady(kube, { name, image: env.SHADOW_IMAGE, timeoutMs: 60_000, created, logger: noopLogger })
  const ms = performance.now() - begin
  await deletePodAndWait(kube, name)
  return ms
}

export function warmArgs(env, namespace, mode, rounds) {
  return [WARM, namespace, env.SHADOW_IMAGE, mode, String(rounds), env.TUN2SOCKS, BENCH_TUN]
}

export async function connectTime({ env, namespace, rounds }) {
  const samples = { pod: [], cold: { socks: [], tun: [] }, close: { socks: [], tun: [] } }
  for (let r = 0; r < rounds; r++) {
    samples.pod.push(await podStart(env, namespace, r))
    for (const mode of ['socks', 'tun']) {
      const session = await startConnect(env, namespace, mode)
      samples.cold[mode].push(session.readyMs)
      const closing = performance.now()
      await session.close()
      samples.close[mode].push(performance.now() - closing)
    }
  }
  const warm = {}
  for (const mode of ['socks', 'tun'])
    warm[mode] = JSON.parse(await run(process.execPath, warmArgs(env, namespace, mode, rounds)))
  const pod = 'shadow pod start alone (create → Ready)'
  // Connect times are held against the pod start (the target: cold ≤ pod start + 1 s).
  const row = (metric, arm, values, against = true) => ({
    metric,
    arm,
    unit: 'ms',
    better: 'lower',
    stats: summary(values),
    ...(against ? { baseline: { arm: pod, metric: 'connect time to ready' }, addedOver: pod } : {}),
  })
  return [
    row('connect time to ready', pod, samples.pod),
    ...['socks', 'tun'].flatMap((mode) => [
      row('connect time to ready', `ktx connect --mode ${mode}, cold (new process)`, samples.cold[mode]),
      row(
        'connect time to ready',
        `ktx connect --mode ${mode}, warm (connect() again in one process)`,
        warm[mode].readyMs,
      ),
      row(
        'connect: shadow pod create → Ready inside a warm connect',
        `--mode ${mode}`,
        warm[mode].podReadyMs,
      ),
      row(
        'disconnect (Ctrl+C / close() until everything is removed)',
        `ktx connect --mode ${mode}, cold`,
        samples.close[mode],
        false,
      ),
      row(
        'disconnect (Ctrl+C / close() until everything is removed)',
        `ktx connect --mode ${mode}, warm`,
        warm[mode].closeMs,
        false,
      ),
    ]),
  ]
}
