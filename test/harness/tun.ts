/** `ktx connect` in TUN mode from the laptop namespace, with its own HOME (journal, logs). */
import type { ChildProcess } from 'node:child_process'

import type { ClusterEnv } from './cluster.js'
import { KTX_BIN, type ProcessResult, spawnInLaptop } from './ktx.js'

export interface RunningTunConnect {
  readonly child: ChildProcess
  /** Settles once ktx says it is connected in tun mode; rejects if it exits first. */
  readonly ready: Promise<void>
  readonly exited: Promise<ProcessResult>
}

/** Starts `ktx <args>` (a `connect` in tun mode) as root in the laptop namespace. */
export function startTunConnect(env: ClusterEnv, args: readonly string[], home: string): RunningTunConnect {
  const child = spawnInLaptop(env, KTX_BIN, args, { HOME: home })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (/^Connected \(tun mode\)/m.test(stdout) && stdout.includes('Press Ctrl+C')) resolve()
    })
    void exited.then((r) =>
      reject(new Error(`ktx exited (${String(r.code)}) before connecting:\n${r.stderr}`)),
    )
  })
  ready.catch(() => undefined)
  return { child, ready, exited }
}
