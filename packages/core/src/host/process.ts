/**
 * Process identity for crash recovery: a pid alone can be reused, so the journal also keeps the
 * process's start time and only ever signals a process whose identity still matches.
 */
import { sleep } from '../util/sleep.js'
import type { Host } from './host.js'

/** A process as the journal remembers it. */
export interface ProcessIdentity {
  readonly pid: number
  /** Opaque start marker: `/proc/<pid>/stat` start ticks on Linux, `ps -o lstart=` elsewhere. */
  readonly startedAt: string
}

/** The process's start marker, or undefined when no such process exists. */
export async function processStartedAt(host: Host, pid: number): Promise<string | undefined> {
  if (host.platform === 'linux') {
    const stat = await readProcStat(host, pid)
    if (!stat) return undefined
    // Field 2 (comm) is parenthesised and may contain spaces; fields after it are plain.
    const text = stat.toString('utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // starttime is field 22 overall, i.e. index 19 after "pid (comm) ".
    return fields[19]
  }
  if (host.platform === 'win32') {
    const result = await host.run(
      'powershell',
      ['-NoProfile', '-Command', `(Get-Process -Id ${pid}).StartTime.ToFileTimeUtc()`],
      { check: false },
    )
    return result.exitCode === 0 && result.stdout.trim() !== '' ? result.stdout.trim() : undefined
  }
  const result = await host.run('ps', ['-o', 'lstart=', '-p', String(pid)], { check: false })
  return result.exitCode === 0 && result.stdout.trim() !== '' ? result.stdout.trim() : undefined
}

/** This process's identity, or of `pid`. @throws Error when the process does not exist. */
export async function identify(host: Host, pid: number): Promise<ProcessIdentity> {
  const startedAt = await processStartedAt(host, pid)
  if (startedAt === undefined) throw new Error(`No process with pid ${pid}`)
  return { pid, startedAt }
}

/** True when the process that `identity` describes is still running (not a reused pid). */
export async function isSameProcessAlive(host: Host, identity: ProcessIdentity): Promise<boolean> {
  return (await processStartedAt(host, identity.pid)) === identity.startedAt
}

/**
 * Ends the process `identity` describes, if it still runs: SIGTERM, then SIGKILL after `graceMs`.
 * A reused pid is left alone. Resolves once it is gone.
 */
export async function killProcess(
  host: Host,
  identity: ProcessIdentity,
  options: { graceMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  if (!(await isSameProcessAlive(host, identity))) return
  signalProcess(identity.pid, 'SIGTERM')
  const deadline = Date.now() + (options.graceMs ?? 3_000)
  while (await isSameProcessAlive(host, identity)) {
    if (options.signal?.aborted) throw options.signal.reason
    if (Date.now() >= deadline) {
      signalProcess(identity.pid, 'SIGKILL')
      break
    }
    await sleep(50, options.signal)
  }
  // After SIGKILL the kernel needs a moment; a zombie of a dead parent is reaped by init.
  const killDeadline = Date.now() + 2_000
  while ((await isSameProcessAlive(host, identity)) && Date.now() < killDeadline) {
    if (await isZombie(host, identity.pid)) return
    await sleep(20)
  }
}

/**
 * Running processes whose command line is exactly `argv` (joined by spaces), with their identity.
 * Uses `ps` on Unix and CIM on Windows.
 */
export async function findProcesses(host: Host, argv: readonly string[]): Promise<ProcessIdentity[]> {
  const wanted = argv.join(' ')
  const pids: number[] = []
  if (host.platform === 'win32') {
    const result = await host.run('powershell', [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      'Get-CimInstance Win32_Process | Select-Object ProcessId,CommandLine | ConvertTo-Json -Compress',
    ])
    const parsed = JSON.parse(result.stdout.trim() || '[]') as unknown
    const rows = (Array.isArray(parsed) ? parsed : [parsed]) as { ProcessId?: number; CommandLine?: string }[]
    for (const row of rows) {
      if (row.ProcessId !== undefined && row.CommandLine?.replace(/"/g, '').trim() === wanted)
        pids.push(row.ProcessId)
    }
  } else {
    const result = await host.run('ps', ['-eo', 'pid=,args='])
    for (const line of result.stdout.split('\n')) {
      const match = /^\s*(\d+)\s+(.*)$/.exec(line)
      if (match?.[1] && match[2]?.trim() === wanted) pids.push(Number(match[1]))
    }
  }
  const found: ProcessIdentity[] = []
  for (const pid of pids) {
    const startedAt = await processStartedAt(host, pid)
    if (startedAt !== undefined) found.push({ pid, startedAt })
  }
  return found
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

async function isZombie(host: Host, pid: number): Promise<boolean> {
  if (host.platform !== 'linux') return false
  const stat = await readProcStat(host, pid)
  if (!stat) return true
  const text = stat.toString('utf8')
  return text.slice(text.lastIndexOf(')') + 2).startsWith('Z')
}

// A process that exits while its stat file is read makes the read fail with ESRCH.
async function readProcStat(host: Host, pid: number): Promise<Buffer | undefined> {
  try {
    return await host.readFile(`/proc/${pid}/stat`)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return undefined
    throw error
  }
}
