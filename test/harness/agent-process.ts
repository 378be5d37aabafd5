import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

import { generateSessionKey } from '@ktx/core/tunnel'

/** The bundled agent, as the shadow image runs it. */
export const AGENT_BUNDLE = fileURLToPath(
  new URL('../../packages/shadow-image/dist/agent.mjs', import.meta.url),
)

/** A session key pair, made the way core makes it. */
export function makeKey(): { privateKey: string; publicKey: string } {
  return generateSessionKey('test')
}

/** The agent running as a real local process. */
export interface AgentProcess {
  readonly child: ChildProcess
  readonly sshPort: number
  readonly directPort: number
  readonly healthPort: number
  readonly logs: string[]
  /** Number of socket file descriptors the process holds right now (from /proc). */
  socketCount(): number
  stop(): Promise<void>
}

/** Starts `node agent.mjs` with ports 0 and waits for its "Agent ready" log line. */
export async function startAgentProcess(publicKey: string): Promise<AgentProcess> {
  const child = spawn(process.execPath, [AGENT_BUNDLE], {
    env: {
      ...process.env,
      KTX_AUTHORIZED_KEY: publicKey,
      KTX_SSH_PORT: '0',
      KTX_DIRECT_PORT: '0',
      KTX_HEALTH_PORT: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const logs: string[] = []
  interface Ports {
    sshPort: number
    directPort: number
    healthPort: number
  }
  const ready = new Promise<Ports>((resolve, reject) => {
    const lines = createInterface({ input: child.stderr })
    lines.on('line', (line) => {
      logs.push(line)
      const entry = JSON.parse(line) as { message?: string } & Partial<Ports>
      if (entry.message === 'Agent ready')
        resolve({ sshPort: entry.sshPort!, directPort: entry.directPort!, healthPort: entry.healthPort! })
    })
    child.once('exit', (code) => reject(new Error(`agent exited with ${String(code)}: ${logs.join('\n')}`)))
  })
  const { sshPort, directPort, healthPort } = await ready
  return {
    child,
    sshPort,
    directPort,
    healthPort,
    logs,
    socketCount: () => socketFds(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve()
          return
        }
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** Socket file descriptors of a process, from /proc/<pid>/fd. */
export function socketFds(pid: number): number {
  let count = 0
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++
    } catch {
      // The fd closed while we looked.
    }
  }
  return count
}
