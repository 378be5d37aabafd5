// The processes whose figures the bench compares: `ktx connect` / `ktx exchange` (the real CLI,
// one process each, as a user runs it) and the baseline `kubectl port-forward`. The bench runs in
// the laptop network namespace, so these do too.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

import { start, stop, waitForOutput } from './proc.mjs'

export const KTX_BIN = fileURLToPath(new URL('../../packages/cli/bin/run.js', import.meta.url))
/** The TUN device the bench's sessions use, so they do not take the name other sessions use. */
export const BENCH_TUN = 'ktxbench0'
const READY_MS = 120_000

// One compile cache for the whole run, as a user's ~/.cache/ktx is after the first ktx command:
// each session still gets its own HOME, but only the first start compiles the CLI.
let compileCache
function sharedCacheHome() {
  if (compileCache === undefined) {
    compileCache = mkdtempSync(join(tmpdir(), 'ktx-bench-cache-'))
    process.once('exit', () => rmSync(compileCache, { recursive: true, force: true }))
  }
  return compileCache
}

function ktxEnv(env, home) {
  return {
    ...process.env,
    HOME: home,
    XDG_CACHE_HOME: sharedCacheHome(),
    KUBECONFIG: env.KUBECONFIG_LAPTOP,
    KTX_TUN2SOCKS: env.TUN2SOCKS,
  }
}

/** Command line of `ktx connect` in `mode`, as the report prints it. */
export function connectArgs(env, namespace, mode, extra = []) {
  const tun = mode === 'tun' ? ['--tunName', BENCH_TUN] : []
  return ['connect', '--mode', mode, '-n', namespace, '-i', env.SHADOW_IMAGE, ...tun, ...extra]
}

/** Starts `ktx <args>` and resolves once it printed `Press Ctrl+C`; `readyMs` counts from spawn. */
async function startKtx(env, args, what, nodeArgs = []) {
  const home = mkdtempSync(join(tmpdir(), 'ktx-bench-home-'))
  const begin = performance.now()
  const proc = start(process.execPath, [...nodeArgs, KTX_BIN, ...args], { env: ktxEnv(env, home) })
  try {
    await waitForOutput(proc, /Press Ctrl\+C/, READY_MS, what)
  } catch (error) {
    await stop(proc)
    rmSync(home, { recursive: true, force: true })
    throw error
  }
  const readyMs = performance.now() - begin
  return {
    proc,
    pid: proc.child.pid,
    readyMs,
    output: () => proc.out.stdout,
    async close() {
      const result = await stop(proc)
      rmSync(home, { recursive: true, force: true })
      if (result.code !== 0)
        throw new Error(`${what} exited ${result.code ?? result.signal} on Ctrl+C:\n${result.stderr}`)
    },
  }
}

/** A `ktx connect` session; `socks`/`http` are `host:port`, `dns` the local DNS server (tun). */
export async function startConnect(env, namespace, mode, nodeArgs = [], extra = []) {
  const session = await startKtx(
    env,
    connectArgs(env, namespace, mode, extra),
    ['ktx connect --mode', mode, ...extra].join(' '),
    nodeArgs,
  )
  const text = session.output()
  const socks = /socks5h:\/\/([\d.]+:\d+)/.exec(text)?.[1]
  const http = /HTTP proxy:\s+http:\/\/([\d.]+:\d+)/.exec(text)?.[1]
  const dns = /local server ([\d.]+:\d+)/.exec(text)?.[1]
  const pod = /shadow pod [^/\s]+\/(\S+?)[,\s]/.exec(text)?.[1]
  if (!socks || !pod) {
    await session.close()
    throw new Error(`ktx connect printed no SOCKS address or pod:\n${text}`)
  }
  return { ...session, mode, socks, http, dns, pod }
}

/**
 * `ktx <exchange|mesh> <service> --expose <local>:<remote> [extra…]`, the commands that bring a
 * Service's traffic to the laptop; `args` is its command line, as the report prints it.
 */
export async function startServiceSession(env, command, namespace, service, expose, extra = []) {
  const args = [command, service, '-n', namespace, '-i', env.SHADOW_IMAGE, '--expose', expose, ...extra]
  const session = await startKtx(env, args, `ktx ${command} ${service}`)
  return { ...session, args }
}

/** Command line of the baseline, as the report prints it. */
export function portForwardArgs(env, namespace, pod, ports) {
  return [
    '--kubeconfig',
    env.KUBECONFIG_LAPTOP,
    '-n',
    namespace,
    'port-forward',
    `pod/${pod}`,
    ...ports.map((p) => `:${p}`),
  ]
}

/** `kubectl port-forward` to `ports` of the pod; `local[i]` is the local port for `ports[i]`. */
export async function startPortForward(env, namespace, pod, ports) {
  const proc = start(env.KUBECTL, portForwardArgs(env, namespace, pod, ports))
  const pattern = new RegExp(
    `(?:Forwarding from 127\\.0\\.0\\.1:\\d+ -> \\d+\\s+(?:Forwarding from \\[::1\\]:\\d+ -> \\d+\\s+)?){${ports.length}}`,
  )
  try {
    await waitForOutput(proc, pattern, 30_000, 'kubectl port-forward')
  } catch (error) {
    await stop(proc)
    throw error
  }
  const local = ports.map((p) =>
    Number(new RegExp(`127\\.0\\.0\\.1:(\\d+) -> ${p}\\b`).exec(proc.out.stdout)?.[1]),
  )
  return { proc, pid: proc.child.pid, local, close: () => stop(proc) }
}
