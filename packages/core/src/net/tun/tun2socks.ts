/**
 * tun2socks as a supervised child process: it reads packets from the TUN device and turns each
 * TCP connection into a SOCKS5 CONNECT to the session's proxy. Its output goes to the logger at
 * debug level (the CLI's log file), and the last of it into the error if it dies.
 */
import { TimeoutError, TunnelError } from '../../errors.js'
import {
  type ProcessExit,
  type ProcessHandle,
  type StartProcessOptions,
  startProcess,
} from '../../exec/run.js'
import type { Logger } from '../../logger.js'
import { sleep } from '../../util/sleep.js'
import type { RouteTable } from '../routes/types.js'
import type { Tun2socksBinary } from './binary.js'

/** Options of {@link startTun2socks}. */
export interface Tun2socksOptions {
  readonly binary: Tun2socksBinary
  /** The TUN device name (Linux: already created by ktx; elsewhere tun2socks creates it). */
  readonly device: string
  /** The session's SOCKS5 server. */
  readonly proxy: { readonly host: string; readonly port: number }
  readonly routeTable: RouteTable
  readonly logger: Logger
  /** How long tun2socks may take to attach to the device. */
  readonly readyTimeoutMs: number
  readonly signal?: AbortSignal
  /** Starts the process; tests inject a fake. Default {@link startProcess}. */
  readonly start?: (
    command: string,
    args: readonly string[],
    options: StartProcessOptions,
  ) => Promise<ProcessHandle>
}

/** A running tun2socks. Needs {@link Tun2socksProcess.stop}. */
export interface Tun2socksProcess {
  readonly pid: number
  /** The exact command line (also the journal's way to find it after a crash). */
  readonly argv: readonly string[]
  /** Settles when it exits, for any reason. */
  readonly exited: Promise<ProcessExit>
  /** The last lines it printed on stderr. */
  stderrTail(): string
  /** SIGTERM, then SIGKILL; resolves once it is gone. */
  stop(): Promise<void>
}

/**
 * The TUN device's MTU. At tun2socks' default (1500) its user-space TCP stack handles six times
 * as many packets per byte as at 9000, and that per-packet work was what bounded bulk traffic:
 * `npm run bench` measured 37 → 82 MB/s for one download through the TUN. Nothing leaves this
 * machine at this size: tun2socks ends every TCP connection here and re-sends it over SSH.
 */
export const TUN_MTU = 9000

/** `tun2socks -device tun://ktx0 -proxy socks5://127.0.0.1:1080 -mtu 9000 -loglevel warn`. */
export function tun2socksArgv(
  binary: string,
  device: string,
  proxy: { readonly host: string; readonly port: number },
): string[] {
  const host = proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host
  return [
    binary,
    '-device',
    `tun://${device}`,
    '-proxy',
    `socks5://${host}:${proxy.port}`,
    '-mtu',
    String(TUN_MTU),
    '-loglevel',
    'warn',
  ]
}

/**
 * Starts tun2socks and resolves once it holds the TUN device (the link has carrier; Linux) or the
 * device exists (tun2socks created it; macOS, Windows).
 * @throws ExternalCommandError when it cannot start; TunnelError `KTX_TUN2SOCKS_EXITED` (with its
 *   last output) when it exits first; TimeoutError `KTX_TUN_NOT_READY` (`timeouts.tunReadyMs`).
 */
export async function startTun2socks(options: Tun2socksOptions): Promise<Tun2socksProcess> {
  const log = options.logger.child({ component: 'tun2socks' })
  const [command = '', ...args] = tun2socksArgv(options.binary.path, options.device, options.proxy)
  const start = options.start ?? startProcess
  const child = await start(command, args, {
    onLine: (line) => {
      log.debug(line)
    },
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const handle: Tun2socksProcess = {
    pid: child.pid,
    argv: [command, ...args],
    exited: child.exited,
    stderrTail: () => child.stderrTail(),
    stop: async () => {
      await child.stop()
    },
  }
  try {
    await waitAttached(options, child)
  } catch (error) {
    await child.stop()
    throw error
  }
  log.debug('tun2socks attached', { pid: child.pid, device: options.device })
  return handle
}

// Polls the link until tun2socks holds it, racing the process's exit and the deadline.
async function waitAttached(options: Tun2socksOptions, child: ProcessHandle): Promise<void> {
  const deadline = Date.now() + options.readyTimeoutMs
  let exit: ProcessExit | undefined
  void child.exited.then((e) => (exit = e))
  const precreated = options.routeTable.createTun !== undefined
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason
    if (exit) {
      const how =
        exit.code === undefined
          ? `was killed by ${exit.signal ?? 'a signal'}`
          : `exited with code ${exit.code}`
      const output = child.stderrTail()
      throw new TunnelError(
        'KTX_TUN2SOCKS_EXITED',
        `tun2socks ${how} before it attached to ${options.device}${output ? `: ${lastMessage(output)}` : ''}`,
        {
          suggestions: [
            'Run with --debug to see all of its output.',
            'Check that no other program uses the TUN device.',
          ],
          data: { output },
        },
      )
    }
    const link = await options.routeTable.link(options.device, options.signal)
    if (precreated ? link.carrier : link.exists) return
    if (Date.now() >= deadline) {
      throw new TimeoutError(
        'KTX_TUN_NOT_READY',
        `tun2socks did not attach to ${options.device} within ${options.readyTimeoutMs} ms`,
        {
          option: 'timeouts.tunReadyMs',
          timeoutMs: options.readyTimeoutMs,
          category: 'network',
          suggestions: ['Run with --debug to see what tun2socks printed.'],
        },
      )
    }
    await sleep(25, options.signal)
  }
}

// tun2socks logs JSON lines ({"level":"fatal","msg":"[ENGINE] failed to start: …"}); keep the message.
function lastMessage(output: string): string {
  const last = output.trim().split('\n').pop() ?? ''
  try {
    const parsed = JSON.parse(last) as { msg?: unknown }
    return typeof parsed.msg === 'string' ? parsed.msg : last
  } catch {
    return last
  }
}
