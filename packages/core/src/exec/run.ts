/**
 * The only place in core that starts processes (`ip`, `tun2socks`, `resolvectl`, …). Failures
 * become {@link ExternalCommandError}s that say what ran, how it ended and what it printed last.
 */
import { spawn } from 'node:child_process'

import { ExternalCommandError, messageOf } from '../errors.js'

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Written to stdin, which is then closed. */
  readonly input?: string | Buffer
  /** Kill the command (SIGKILL) after this long. Default 30 000 ms. */
  readonly timeoutMs?: number
  /** Aborting kills the command and rejects with `signal.reason`. */
  readonly signal?: AbortSignal
  /** When false, a non-zero exit resolves instead of throwing. Default true. */
  readonly check?: boolean
  /** The command's whole environment. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv
}

/** How a finished command ended and what it printed. */
export interface CommandResult {
  readonly command: string
  readonly args: readonly string[]
  /** Exit code; -1 when killed by a signal. */
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

const TAIL_BYTES = 2048

/** The last ~2 KB of `text`, trimmed, cut at a line start when possible. */
export function tail(text: string): string {
  const trimmed = text.trim()
  if (trimmed.length <= TAIL_BYTES) return trimmed
  const cut = trimmed.slice(-TAIL_BYTES)
  const newline = cut.indexOf('\n')
  return newline >= 0 ? cut.slice(newline + 1) : cut
}

/**
 * Runs `command args…` to completion without a shell.
 * @throws ExternalCommandError `KTX_COMMAND_NOT_FOUND` (not installed / not executable) or
 *   `KTX_COMMAND_FAILED` (non-zero exit, killed, timed out); `signal.reason` when aborted.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 30_000
  return new Promise<CommandResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason as Error)
      return
    }
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      ...(options.env ? { env: options.env } : {}),
    })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    timer.unref()
    const onAbort = (): void => {
      child.kill('SIGKILL')
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    const done = (): void => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
    }
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.once('error', (error: NodeJS.ErrnoException) => {
      done()
      reject(spawnError(command, args, error))
    })
    child.once('close', (code, signal) => {
      done()
      if (options.signal?.aborted) {
        reject(options.signal.reason as Error)
        return
      }
      const result: CommandResult = {
        command,
        args,
        exitCode: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }
      if (result.exitCode === 0 || options.check === false) {
        resolve(result)
        return
      }
      const how = timedOut
        ? `timed out after ${timeoutMs} ms`
        : signal
          ? `was killed by ${signal}`
          : `exited with code ${result.exitCode}`
      const detail = tail(result.stderr) || tail(result.stdout)
      reject(
        new ExternalCommandError(`${formatCommand(command, args)} ${how}${detail ? `: ${detail}` : ''}`, {
          command,
          args,
          exitCode: code ?? undefined,
          stderrTail: tail(result.stderr),
        }),
      )
    })
    // A command that exits before reading stdin makes the write fail with EPIPE; its exit code says more.
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input)
  })
}

/** How a long-running process ended. */
export interface ProcessExit {
  /** Exit code, or undefined when a signal ended it. */
  readonly code: number | undefined
  readonly signal: NodeJS.Signals | undefined
}

/** Options of {@link startProcess}. */
export interface StartProcessOptions {
  /** Receives each line the process prints (stdout and stderr), e.g. to send it to the log file. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Aborting stops the process (SIGTERM, then SIGKILL after `killAfterMs`). */
  readonly signal?: AbortSignal
  /** Grace period between SIGTERM and SIGKILL. Default 3 000 ms. */
  readonly killAfterMs?: number
}

/** A running child process. Stop it with {@link ProcessHandle.stop}. */
export interface ProcessHandle {
  readonly pid: number
  readonly command: string
  readonly args: readonly string[]
  /** Settles once when the process ends, for any reason. Never rejects. */
  readonly exited: Promise<ProcessExit>
  /** The last lines it printed on stderr, for error messages. */
  stderrTail(): string
  /** SIGTERM, then SIGKILL after the grace period; resolves when it has ended. Idempotent. */
  stop(): Promise<ProcessExit>
}

/**
 * Starts a long-running process and resolves once it has been spawned (not once it is "ready";
 * callers observe readiness themselves).
 * @throws ExternalCommandError `KTX_COMMAND_NOT_FOUND` / `KTX_COMMAND_FAILED` when it cannot start.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: StartProcessOptions = {},
): Promise<ProcessHandle> {
  const killAfterMs = options.killAfterMs ?? 3_000
  return new Promise<ProcessHandle>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    let stderrText = ''
    const lines = (stream: 'stdout' | 'stderr') => {
      let partial = ''
      return (chunk: Buffer): void => {
        const text = partial + chunk.toString('utf8')
        const parts = text.split('\n')
        partial = parts.pop() ?? ''
        if (stream === 'stderr') stderrText = tail(stderrText + chunk.toString('utf8'))
        for (const line of parts) if (line.trim() !== '') options.onLine?.(line, stream)
      }
    }
    child.stdout.on('data', lines('stdout'))
    child.stderr.on('data', lines('stderr'))
    const exited = new Promise<ProcessExit>((resolveExit) => {
      child.once('close', (code, signal) => {
        resolveExit({ code: code ?? undefined, signal: signal ?? undefined })
      })
    })
    let stopping: Promise<ProcessExit> | undefined
    const stop = (): Promise<ProcessExit> => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
          timer.unref()
          const end = await exited
          clearTimeout(timer)
          return end
        }
        return exited
      })()
      return stopping
    }
    const onAbort = (): void => {
      void stop()
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(spawnError(command, args, error))
    })
    child.once('spawn', () => {
      const pid = child.pid
      if (pid === undefined) {
        reject(new ExternalCommandError(`${command} started without a pid`, { command, args }))
        return
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      void exited.then(() => options.signal?.removeEventListener('abort', onAbort))
      resolve({ pid, command, args, exited, stderrTail: () => stderrText, stop })
    })
  })
}

/** `cmd a b` for messages, quoting arguments with spaces. */
export function formatCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((part) => (/[\s"']/.test(part) ? JSON.stringify(part) : part)).join(' ')
}

function spawnError(
  command: string,
  args: readonly string[],
  error: NodeJS.ErrnoException,
): ExternalCommandError {
  const missing = error.code === 'ENOENT' || error.code === 'EACCES'
  return new ExternalCommandError(
    missing
      ? `Cannot run ${command}: ${error.code === 'ENOENT' ? 'not found' : 'permission denied'}`
      : `Cannot start ${formatCommand(command, args)}: ${messageOf(error)}`,
    {
      code: missing ? 'KTX_COMMAND_NOT_FOUND' : 'KTX_COMMAND_FAILED',
      command,
      args,
      cause: error,
      suggestions: missing ? [`Install ${command} or put it on PATH.`] : [],
    },
  )
}
