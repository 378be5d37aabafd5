// Bulk throughput to the target pod, one stream and 4 parallel streams, through each arm, with the
// CPU seconds per GB each arm's own process(es) spent and their peak RSS under the load. The
// client is curl (its own process), so it does not share an event loop with ktx.
import { cpuSeconds, machineCpu, processTree, run, sampleRss, treeCpuSeconds } from '../lib/proc.mjs'
import { BULK_BYTES } from '../lib/cluster.mjs'
import { round, summary } from '../lib/stats.mjs'

/** curl's download of `url`: bytes and seconds (curl's own clock, from start to last byte). */
async function download(url, proxyArgs) {
  const out = await run('curl', [
    '-sS',
    '--fail',
    '-o',
    '/dev/null',
    '-w',
    '%{size_download} %{time_total}',
    ...proxyArgs,
    url,
  ])
  const [bytes, seconds] = out.trim().split(' ').map(Number)
  if (bytes !== BULK_BYTES) throw new Error(`${url}: got ${bytes} bytes, expected ${BULK_BYTES}`)
  return { bytes, seconds }
}

/** MB/s of `streams` downloads at once: all bytes over the slowest stream's time. */
async function throughput(arm, streams) {
  const runs = await Promise.all(Array.from({ length: streams }, () => download(arm.url, arm.proxyArgs)))
  const bytes = runs.reduce((sum, r) => sum + r.bytes, 0)
  return { bytes, mbps: bytes / 1e6 / Math.max(...runs.map((r) => r.seconds)) }
}

// CPU seconds of a set of processes: the apiserver and kubelet (they carry every arm's bytes), or
// an arm's shadow pod (its agent encrypts what ktx decrypts).
function cpuOf(pids) {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
}

/**
 * arms: [{ name, url, proxyArgs, pid, podPids }] (pid: the process whose tree forwards here;
 * podPids: its shadow pod's processes, none for the baseline).
 * Rounds are interleaved (every arm once per round) so load from the shared machine hits all alike.
 */
export async function bulk({ arms, rounds, clusterPids }) {
  const rates = {}
  const cpu = {}
  const peaks = {}
  for (const arm of arms) {
    for (const s of [1, 4]) rates[`${arm.name}/${s}`] = []
    cpu[arm.name] = { seconds: 0, bytes: 0, cluster: 0, pod: 0, busy: 0, total: 0 }
    peaks[arm.name] = 0
  }
  for (let r = 0; r < rounds; r++) {
    for (const arm of arms) {
      for (const streams of [1, 4]) {
        const before = {
          own: treeCpuSeconds(arm.pid),
          cluster: cpuOf(clusterPids),
          pod: cpuOf(arm.podPids),
          machine: machineCpu(),
        }
        const stopSampling = sampleRss(arm.pid)
        const result = await throughput(arm, streams)
        peaks[arm.name] = Math.max(peaks[arm.name], stopSampling())
        const machine = machineCpu()
        cpu[arm.name].seconds += treeCpuSeconds(arm.pid) - before.own
        cpu[arm.name].cluster += cpuOf(clusterPids) - before.cluster
        cpu[arm.name].pod += cpuOf(arm.podPids) - before.pod
        cpu[arm.name].busy += machine.busy - before.machine.busy
        cpu[arm.name].total += machine.total - before.machine.total
        cpu[arm.name].bytes += result.bytes
        rates[`${arm.name}/${streams}`].push(result.mbps)
      }
    }
  }
  const rows = []
  for (const streams of [1, 4]) {
    for (const arm of arms) {
      rows.push({
        metric: `bulk download, ${streams} stream${streams > 1 ? 's' : ''} (${BULK_BYTES / 1048576} MiB each)`,
        arm: arm.name,
        unit: 'MB/s',
        better: 'higher',
        stats: summary(rates[`${arm.name}/${streams}`]),
        // 4 streams are held against ONE plain port-forward stream (the target).
        baseline: { arm: 'kubectl port-forward', metric: 'bulk download, 1 stream (128 MiB each)' },
      })
    }
  }
  for (const arm of arms) {
    const gb = cpu[arm.name].bytes / 1e9
    rows.push({
      metric: 'CPU seconds per GB moved (forwarding process tree)',
      arm: arm.name,
      unit: 'CPU-s/GB',
      better: 'lower',
      stats: summary([cpu[arm.name].seconds / gb]),
      baseline: { arm: 'kubectl port-forward' },
      note: `${round(cpu[arm.name].seconds, 2)} CPU-s over ${round(gb, 2)} GB; pid ${arm.pid}, processes: ${processTree(arm.pid).length}`,
    })
    rows.push({
      metric: 'CPU seconds per GB moved (kube-apiserver + kubelet)',
      arm: arm.name,
      unit: 'CPU-s/GB',
      better: 'lower',
      stats: summary([cpu[arm.name].cluster / gb]),
      baseline: { arm: 'kubectl port-forward' },
    })
    if (arm.podPids.length > 0)
      rows.push({
        metric: 'CPU seconds per GB moved (the shadow pod: agent)',
        arm: arm.name,
        unit: 'CPU-s/GB',
        better: 'lower',
        stats: summary([cpu[arm.name].pod / gb]),
      })
    rows.push({
      metric: 'machine CPU busy during the downloads (both cores, every process)',
      arm: arm.name,
      unit: '%',
      better: 'lower',
      stats: summary([(100 * cpu[arm.name].busy) / cpu[arm.name].total]),
    })
    rows.push({
      metric: 'peak RSS under bulk load',
      arm: arm.name,
      unit: 'MB',
      better: 'lower',
      stats: summary([peaks[arm.name]]),
      baseline: { arm: 'kubectl port-forward' },
    })
  }
  return rows
}
