/**
 * A fake {@link Host} for tests: records the exact argv of every command, answers them from
 * scripted responses, and keeps files in memory.
 */
import { ExternalCommandError } from '../errors.js'
import { type CommandResult, type RunCommandOptions, formatCommand, tail } from '../exec/run.js'
import type { FileLock } from '../host/file-lock.js'
import type { Host } from '../host/host.js'

/** A scripted answer to a command. */
export interface FakeResponse {
  /** Behave as if the command is not installed (`KTX_COMMAND_NOT_FOUND`). */
  readonly notFound?: boolean
  readonly exitCode?: number
  readonly stdout?: string
  readonly stderr?: string
}

type Responder = FakeResponse | ((argv: readonly string[]) => FakeResponse)

/** Records commands and serves files from memory. */
export class RecordingHost implements Host {
  readonly platform: NodeJS.Platform
  /** Every command run, as `command arg arg …` strings, in order. */
  readonly commands: string[] = []
  /** Files by path. */
  readonly files = new Map<string, Buffer>()
  elevated = true
  /** Commands found on PATH, by name (absolute path); others are not on PATH. */
  readonly onPath = new Map<string, string>()
  /** Files ktx must not trust, with the reason; every other file is trusted. */
  readonly untrusted = new Map<string, string>()
  readonly #responders: { prefix: string; respond: Responder }[] = []

  constructor(platform: NodeJS.Platform = 'linux') {
    this.platform = platform
  }

  /** Answers commands whose `command args…` string starts with `prefix` (latest rule wins). */
  on(prefix: string, respond: Responder): this {
    this.#responders.unshift({ prefix, respond })
    return this
  }

  /** Sets a file's content. */
  file(path: string, content: string | Buffer): this {
    this.files.set(path, Buffer.from(content))
    return this
  }

  /** A file's content as text (undefined when missing). */
  text(path: string): string | undefined {
    return this.files.get(path)?.toString('utf8')
  }

  run(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
    const line = formatCommand(command, args)
    this.commands.push(line)
    const rule = this.#responders.find((r) => line === r.prefix || line.startsWith(`${r.prefix} `))
    const response = typeof rule?.respond === 'function' ? rule.respond([command, ...args]) : rule?.respond
    if (response?.notFound) {
      return Promise.reject(
        new ExternalCommandError(`Cannot run ${command}: not found`, {
          code: 'KTX_COMMAND_NOT_FOUND',
          command,
          args,
        }),
      )
    }
    const result: CommandResult = {
      command,
      args,
      exitCode: response?.exitCode ?? 0,
      stdout: response?.stdout ?? '',
      stderr: response?.stderr ?? '',
    }
    if (result.exitCode !== 0 && options.check !== false) {
      return Promise.reject(
        new ExternalCommandError(`${line} exited with code ${result.exitCode}: ${tail(result.stderr)}`, {
          command,
          args,
          exitCode: result.exitCode,
          stderrTail: tail(result.stderr),
        }),
      )
    }
    return Promise.resolve(result)
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.files.get(path))
  }

  /** Files whose lock is held, with the waiters' queue. */
  readonly #locks = new Map<string, Promise<void>>()

  replaceFile(path: string, data: Buffer | string): Promise<void> {
    if (!this.files.has(path)) {
      return Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }))
    }
    this.files.set(path, Buffer.from(data))
    return Promise.resolve()
  }

  /** An in-memory lock per path: holders run one after another. */
  async lockFile(path: string): Promise<FileLock> {
    const previous = this.#locks.get(path) ?? Promise.resolve()
    let release: () => void = () => undefined
    const mine = new Promise<void>((resolve) => (release = resolve))
    this.#locks.set(
      path,
      previous.then(() => mine),
    )
    await previous
    return {
      path: `${path}.ktx-lock`,
      close: () => {
        release()
        return Promise.resolve()
      },
    }
  }

  writeNewFile(path: string, data: Buffer | string): Promise<void> {
    if (this.files.has(path)) {
      return Promise.reject(Object.assign(new Error(`EEXIST: ${path}`), { code: 'EEXIST' }))
    }
    this.files.set(path, Buffer.from(data))
    return Promise.resolve()
  }

  removeFile(path: string): Promise<void> {
    this.files.delete(path)
    return Promise.resolve()
  }

  which(command: string): Promise<string | undefined> {
    return Promise.resolve(this.onPath.get(command))
  }

  trustProblem(path: string): Promise<string | undefined> {
    return Promise.resolve(this.untrusted.get(path))
  }

  isElevated(): boolean {
    return this.elevated
  }
}
