/**
 * Runs ktx the way a user on the "laptop" would: the CLI (or a library script) as a child process
 * inside the laptop network namespace, with KUBECONFIG pointing at the laptop's kubeconfig.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { MANAGED_SELECTOR } from '@ktx/core/contract'
import { expect, vi } from 'vitest'

import { type ClusterEnv, kubectl } from './cluster.js'

export const KTX_BIN = fileURLToPath(new URL('../../packages/cli/bin/run.js', import.meta.url))

export interface ProcessResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunningKtx {
  readonly child: ChildProcess
  /** Settles with the proxies once ktx printed its export lines; rejects if it exits first. */
  readonly ready: Promise<{ socksUrl: string; socksPort: number; httpUrl: string; httpPort: number }>
  readonly exited: Promise<ProcessResult>
  readonly output: () => { stdout: string; stderr: string }
}

/** Starts `node <script> ...args` in the laptop namespace with the laptop kubeconfig. */
export function spawnInLaptop(
  env: ClusterEnv,
  script: string,
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
): ChildProcess {
  return spawn('ip', ['netns', 'exec', env.LAPTOP_NETNS, process.execPath, script, ...args], {
    env: { ...process.env, KUBECONFIG: env.KUBECONFIG_LAPTOP, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** A long-running ktx verb started in the laptop namespace. */
export interface RunningVerb {
  readonly child: ChildProcess
  /** Settles with stdout once ktx printed `readyText`; rejects if it exits first. */
  readonly ready: Promise<string>
  readonly exited: Promise<ProcessResult>
  readonly output: () => { stdout: string; stderr: string }
}

/** Starts `ktx <args>` in the laptop namespace with the laptop kubeconfig. */
export function startKtx(
  env: ClusterEnv,
  args: readonly string[],
  readyText: string,
  extraEnv: NodeJS.ProcessEnv = {},
): RunningVerb {
  const child = spawnInLaptop(env, KTX_BIN, args, extraEnv)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (stdout.includes(readyText)) resolve(stdout)
    })
    void exited.then((r) =>
      reject(new Error(`ktx ${args[0] ?? ''} exited (${String(r.code)}) before ready:\n${r.stderr}`)),
    )
  })
  ready.catch(() => undefined)
  return { child, ready, exited, output: () => ({ stdout, stderr }) }
}

/** Starts `ktx connect --mode socks …` in the laptop namespace. */
export function startKtxConnect(
  env: ClusterEnv,
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
): RunningKtx {
  const child = spawnInLaptop(env, KTX_BIN, ['connect', '--mode', 'socks', ...args], extraEnv)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const ready = new Promise<{ socksUrl: string; socksPort: number; httpUrl: string; httpPort: number }>(
    (resolve, reject) => {
      const check = (): void => {
        // With --proxyAuth the URLs carry `user:password@`.
        const socks = /^export ALL_PROXY=(socks5h:\/\/(?:[^@\s]+@)?127\.0\.0\.1:(\d+))$/m.exec(stdout)
        const http = /^export HTTP_PROXY=(http:\/\/(?:[^@\s]+@)?127\.0\.0\.1:(\d+))$/m.exec(stdout)
        if (socks && http) {
          resolve({
            socksUrl: socks[1]!,
            socksPort: Number(socks[2]),
            httpUrl: http[1]!,
            httpPort: Number(http[2]),
          })
        }
      }
      child.stdout!.on('data', check)
      void exited.then((result) =>
        reject(new Error(`ktx exited (${String(result.code)}) before ready:\n${result.stderr}`)),
      )
    },
  )
  ready.catch(() => undefined)
  return { child, ready, exited, output: () => ({ stdout, stderr }) }
}

/** Runs `ktx connect` expecting it to fail; resolves with its exit and output. */
export async function runKtxConnect(
  env: ClusterEnv,
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ProcessResult> {
  const running = startKtxConnect(env, args, extraEnv)
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 150_000)
  try {
    return await running.exited
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Objects labelled as managed by ktx in `namespace`, as `kind/name` lines (empty = none). Scoped to
 * the test's own namespace because the test cluster is shared: other people's live sessions may
 * exist elsewhere at the same time.
 */
export async function ktxLeftovers(env: ClusterEnv, namespace: string): Promise<string[]> {
  const kinds = 'pods,leases.coordination.k8s.io,configmaps,secrets,services,deployments,serviceaccounts'
  const out = await kubectl(env, ['get', kinds, '-n', namespace, '-l', MANAGED_SELECTOR, '-o', 'name'])
  return out.split('\n').filter((line) => line.trim() !== '')
}

/**
 * A library fixture (`test/e2e/fixtures/library-*.mjs`) in the laptop namespace: it prints one JSON
 * line once its session is ready, leaves its `await using` block on SIGUSR2, then prints one more.
 */
export interface LibraryScript {
  /** The first JSON line; rejects (with stderr) if the script exits or stays silent for 120 s. */
  readonly ready: Promise<Record<string, unknown>>
  /** Sends SIGUSR2 and waits for the exit: its code and the line printed after the block. */
  leave(): Promise<{ readonly code: number | null; readonly after: unknown }>
  /** Kills it if it still runs (for `finally`). */
  kill(): void
}

export function startLibraryScript(env: ClusterEnv, script: string, args: readonly string[]): LibraryScript {
  const child = spawnInLaptop(env, script, args)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const lines = (): string[] => stdout.split('\n').filter((line) => line.trim() !== '')
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 120 s:\n${stderr}`)), 120_000)
    child.stdout!.on('data', () => {
      const [first] = lines()
      if (first !== undefined && stdout.includes('\n')) {
        clearTimeout(timer)
        resolve(JSON.parse(first) as Record<string, unknown>)
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited (${String(code)}) before ready:\n${stderr}`))
    })
  })
  ready.catch(() => undefined)
  return {
    ready,
    async leave() {
      child.kill('SIGUSR2')
      const code = await exited
      const after = lines()[1]
      return { code, after: after === undefined ? undefined : JSON.parse(after) }
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}

/** `kill -9` of a running ktx, checked to have died of it. */
export async function killHard(ktx: {
  readonly child: ChildProcess
  readonly exited: Promise<ProcessResult>
}): Promise<void> {
  ktx.child.kill('SIGKILL')
  expect((await ktx.exited).signal).toBe('SIGKILL')
}

/**
 * Waits until every ktx Lease in `namespace` has lapsed (renewTime + duration is past): "the
 * owner is gone" observed, not slept for.
 */
export async function waitLeasesLapsed(env: ClusterEnv, namespace: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const leases = JSON.parse(
        await kubectl(env, [
          '-n',
          namespace,
          'get',
          'leases.coordination.k8s.io',
          '-l',
          MANAGED_SELECTOR,
          '-o',
          'json',
        ]),
      ) as { items: { spec: { renewTime: string; leaseDurationSeconds: number } }[] }
      for (const lease of leases.items) {
        // ktx judges by the API server's Date header, whole seconds: lapsed by more than one here.
        expect(Date.parse(lease.spec.renewTime) + lease.spec.leaseDurationSeconds * 1000).toBeLessThan(
          Date.now() - 1_000,
        )
      }
    },
    { timeout: 60_000, interval: 500 },
  )
}
