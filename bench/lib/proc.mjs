// Child processes of the bench: spawning with captured output, waiting for a readiness line, and
// reading a process's memory and CPU from /proc (every process on the machine is visible there;
// the bench only changes network namespace).
import { spawn } from 'node:child_process'
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers'
import { readFileSync, readdirSync } from 'node:fs'

const CLOCK_TICKS = 100 // USER_HZ on Linux

// Every child still running. Each gets its own process group, so a Ctrl+C at the terminal reaches
// the bench alone, which then stops them once, in order (see `interrupt`), instead of every
// process at once (a second SIGINT would hurry a ktx session's teardown).
const live = new Set()
let interrupted = false

/**
 * The bench was interrupted (SIGINT/SIGTERM): sends SIGINT once to every child still running
 * (ktx sessions then close as on Ctrl+C; measurements end), and from now on `start` refuses new
 * processes except clean-up ones, so that the run unwinds through its normal clean-up.
 * Returns false when already interrupted.
 */
export function interrupt() {
  if (interrupted) return false
  interrupted = true
  for (const proc of live) signal(proc, 'SIGINT')
  return true
}

export const isInterrupted = () => interrupted

function signal(proc, name) {
  if (proc.signalled) return
  proc.signalled = name
  proc.child.kill(name)
}

/**
 * Spawns `command`, keeping its output; `done` resolves with `{ code, signal, stdout, stderr }`.
 * `cleanup: true`: a clean-up step, started even after `interrupt()`; `lasting: true`: not
 * stopped by `interrupt()` (the clean-up needs it: the delay proxy to the API server).
 */
export function start(command, args, options = {}) {
  const { cleanup = false, lasting = false, ...spawnOptions } = options
  if (interrupted && !cleanup) throw new Error(`interrupted: not starting ${command}`)
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOptions })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (c) => (out.stdout += c))
  child.stderr.on('data', (c) => (out.stderr += c))
  const proc = { child, out, signalled: undefined }
  if (!lasting) live.add(proc)
  proc.done = new Promise((resolve, reject) => {
    child.once('error', (error) => {
      live.delete(proc)
      reject(error)
    })
    child.once('close', (code, sig) => {
      live.delete(proc)
      resolve({ code, signal: sig, ...out })
    })
  })
  return proc
}

/** Runs to completion; throws with its output when it exits non-zero. */
export async function run(command, args, options = {}) {
  const { input, ...rest } = options
  const proc = start(command, args, {
    ...rest,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  if (input !== undefined) proc.child.stdin.end(input)
  const result = await proc.done
  if (result.code !== 0)
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.code ?? result.signal}: ${result.stderr.trim() || result.stdout.trim()}`,
    )
  return result.stdout
}

/** Resolves with the first match of `pattern` in the process's stdout+stderr; rejects if it exits first. */
export function waitForOutput(proc, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(proc.out.stdout + proc.out.stderr)
      if (!match) return false
      cleanup()
      resolve(match)
      return true
    }
    const onData = () => check()
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`${what}: not ready within ${timeoutMs} ms\n${proc.out.stdout}${proc.out.stderr}`))
    }, timeoutMs)
    const onExit = (code) => {
      if (check()) return
      cleanup()
      reject(new Error(`${what} exited ${code} before it was ready\n${proc.out.stdout}${proc.out.stderr}`))
    }
    const cleanup = () => {
      clearTimeout(timer)
      proc.child.stdout.off('data', onData)
      proc.child.stderr.off('data', onData)
      proc.child.off('exit', onExit)
    }
    proc.child.stdout.on('data', onData)
    proc.child.stderr.on('data', onData)
    proc.child.once('exit', onExit)
    check()
  })
}

/**
 * Signals the process (unless `interrupt` already did) and waits for it to exit (SIGKILL after
 * `graceMs`).
 */
export async function stop(proc, name = 'SIGINT', graceMs = 15_000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.done
  signal(proc, name)
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs)
  try {
    return await proc.done
  } finally {
    clearTimeout(timer)
  }
}

/** Resident set size in MB, or undefined once the process is gone. */
export function rssMB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** The process and all its descendants (ktx's tun2socks, kubectl's children). */
export function processTree(pid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = []
  const visit = (p) => {
    tree.push(p)
    for (const c of children.get(p) ?? []) visit(c)
  }
  visit(pid)
  return tree
}

/** CPU seconds of a process tree (processes that ended in between are not counted). */
export function treeCpuSeconds(pid) {
  let total = 0
  for (const p of processTree(pid)) {
    try {
      total += cpuSeconds(p)
    } catch {
      // Gone.
    }
  }
  return total
}

/** Samples the RSS of `pid` every `everyMs` until stopped; returns the peak in MB. */
export function sampleRss(pid, everyMs = 100) {
  let peak = rssMB(pid) ?? 0
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMB(pid) ?? 0)
  }, everyMs)
  return () => {
    clearInterval(timer)
    return Math.max(peak, rssMB(pid) ?? 0)
  }
}

/** Busy and total CPU time of the whole machine so far (jiffies, all cores), from /proc/stat. */
export function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = fields[3] + fields[4] // idle + iowait
  return { busy: total - idle, total }
}
