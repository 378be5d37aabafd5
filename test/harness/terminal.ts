/**
 * ktx on a real pseudo-terminal in the laptop namespace (test/harness/run-in-pty.py): what the
 * user's terminal received, the screen it shows, and keys typed into it.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import type { ClusterEnv } from './cluster.js'
import { KTX_BIN } from './ktx.js'
import { screenOf } from './screen.js'

const RUN_IN_PTY = fileURLToPath(new URL('./run-in-pty.py', import.meta.url))

export interface TerminalRun {
  /** Every byte the terminal received so far. */
  raw(): string
  /** The screen those bytes leave. */
  screen(): string[]
  /** Settles once `predicate(screen)` holds; rejects if ktx exits first or after `timeoutMs`. */
  waitFor(what: string, predicate: (screen: string[]) => boolean, timeoutMs?: number): Promise<string[]>
  /** Types into the terminal (`\u0003` is Ctrl+C). */
  type(text: string): void
  /** The exit status (128 + N for signal N). */
  readonly exited: Promise<number | null>
}

/** Starts `ktx <args>` on a `columns`-wide terminal inside the laptop namespace. */
export function startKtxInTerminal(env: ClusterEnv, args: readonly string[], columns = 100): TerminalRun {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      env.LAPTOP_NETNS,
      'python3',
      RUN_IN_PTY,
      String(columns),
      '40',
      process.execPath,
      KTX_BIN,
      ...args,
    ],
    {
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG_LAPTOP, TERM: 'xterm-256color' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let raw = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout.on('data', (chunk: Buffer) => {
    raw += chunk.toString()
    for (const check of waiters) check()
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  return {
    raw: () => raw,
    screen: () => screenOf(raw),
    exited,
    type: (text) => child.stdin.write(text),
    waitFor: (what, predicate, timeoutMs = 150_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs)
        const done = (error?: Error): void => {
          clearTimeout(timer)
          waiters.delete(check)
          if (error) reject(new Error(`${error.message}; screen:\n${screenOf(raw).join('\n')}\n${stderr}`))
          else resolve(screenOf(raw))
        }
        const check = (): void => {
          if (predicate(screenOf(raw))) done()
        }
        waiters.add(check)
        void exited.then((code) => done(new Error(`ktx exited (${String(code)}) before ${what}`)))
        check()
      }),
  }
}
