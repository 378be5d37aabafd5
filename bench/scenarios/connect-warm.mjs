// Warm connect: `connect()` from @ktx/core called again in a process that has already connected
// once (modules loaded, JIT warm, kubeconfig read), so only the session's own work is timed: lease,
// shadow pod (new each session; the image is on the node), port-forward, SSH, proxies (and in TUN
// mode the device, routes, DNS and probes). Prints one JSON line: ready and close times in ms,
// and the shadow pod's create→Ready share of each connect, from the session's step events.
//
//   node bench/scenarios/connect-warm.mjs <namespace> <image> <socks|tun> <rounds> <tun2socks> <device>
import { performance } from 'node:perf_hooks'

import { connect } from '@ktx/core'

const [namespace, image, mode, roundsArg, tun2socks, device] = process.argv.slice(2)
const rounds = Number(roundsArg)
if (!namespace || !image || !['socks', 'tun'].includes(mode) || !(rounds > 0)) {
  console.error('usage: connect-warm.mjs <namespace> <image> <socks|tun> <rounds> <tun2socks> <device>')
  process.exit(2)
}

// The bench stops its children with SIGINT when it is interrupted: unwind the session in progress
// (a connect being set up, or the one open) as a Ctrl+C would, then exit 130.
const interrupted = new globalThis.AbortController()
for (const name of ['SIGINT', 'SIGTERM']) process.once(name, () => interrupted.abort(new Error(name)))

const result = { readyMs: [], closeMs: [], podReadyMs: [] }
// Round 0 warms the process and is not reported.
for (let r = 0; r <= rounds; r++) {
  if (interrupted.signal.aborted) process.exit(130)
  let podStart = 0
  let podMs = 0
  const begin = performance.now()
  const session = await connect({
    mode,
    image,
    kube: { namespace },
    signal: interrupted.signal,
    ...(mode === 'tun' ? { tun: { tun2socks, device }, dns: { mode: 'localDNS' } } : {}),
    onEvent: (event) => {
      if (event.type === 'step.start' && event.step === 'shadow.create') podStart = performance.now()
      if (event.type === 'step.done' && event.step === 'shadow.ready') podMs = performance.now() - podStart
    },
  })
  const ready = performance.now() - begin
  const closing = performance.now()
  await session.close()
  if (r === 0) continue
  result.readyMs.push(ready)
  result.closeMs.push(performance.now() - closing)
  result.podReadyMs.push(podMs)
}
console.log(JSON.stringify(result))
