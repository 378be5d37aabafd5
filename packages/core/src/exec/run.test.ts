import { describe, expect, it } from 'vitest'

import { ExternalCommandError, isKtxError } from '../errors.js'
import { formatCommand, runCommand, startProcess, tail } from './run.js'

describe('runCommand', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'echo out; echo err >&2'])
    expect(result).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' })
  })

  it('feeds stdin', async () => {
    expect((await runCommand('cat', [], { input: 'hello' })).stdout).toBe('hello')
  })

  it('throws an ExternalCommandError with the command, exit code and stderr tail', async () => {
    const error = await runCommand('sh', ['-c', 'echo "RTNETLINK answers: File exists" >&2; exit 2']).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ExternalCommandError)
    const e = error as ExternalCommandError
    expect(isKtxError(e) && e.code).toBe('KTX_COMMAND_FAILED')
    expect(e.exitCode).toBe(2)
    expect(e.stderrTail).toBe('RTNETLINK answers: File exists')
    expect(e.message).toBe(
      'sh -c "echo \\"RTNETLINK answers: File exists\\" >&2; exit 2" exited with code 2: RTNETLINK answers: File exists',
    )
  })

  it('resolves a failed run with check: false', async () => {
    expect((await runCommand('sh', ['-c', 'exit 3'], { check: false })).exitCode).toBe(3)
  })

  it('says when the command does not exist', async () => {
    const error = (await runCommand('ktx-no-such-command', []).catch(
      (e: unknown) => e,
    )) as ExternalCommandError
    expect(error.code).toBe('KTX_COMMAND_NOT_FOUND')
    expect(error.message).toBe('Cannot run ktx-no-such-command: not found')
  })

  it('kills a command that runs past its timeout', async () => {
    const error = (await runCommand('sleep', ['5'], { timeoutMs: 100 }).catch((e: unknown) => e)) as Error
    expect(error.message).toBe('sleep 5 timed out after 100 ms')
  })

  it('rejects with the abort reason', async () => {
    const controller = new AbortController()
    const running = runCommand('sleep', ['5'], { signal: controller.signal })
    controller.abort(new Error('stop'))
    await expect(running).rejects.toThrow('stop')
  })
})

describe('startProcess', () => {
  it('reports lines, the exit, and stops with SIGTERM', async () => {
    const lines: string[] = []
    const child = await startProcess('sh', ['-c', 'echo ready; echo warn >&2; exec sleep 5'], {
      onLine: (line, stream) => lines.push(`${stream}:${line}`),
    })
    expect(child.pid).toBeGreaterThan(0)
    await expect.poll(() => lines.length).toBe(2)
    expect(lines.sort()).toEqual(['stderr:warn', 'stdout:ready'])
    expect(child.stderrTail()).toBe('warn')
    const end = await child.stop()
    expect(end).toEqual({ code: undefined, signal: 'SIGTERM' })
    expect(await child.stop()).toBe(end)
  })

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    let signalArmed: () => void = () => undefined
    const armed = new Promise<void>((resolve) => (signalArmed = resolve))
    const child = await startProcess('sh', ['-c', 'trap "" TERM; echo armed; while :; do sleep 0.1; done'], {
      killAfterMs: 200,
      onLine: (line) => {
        if (line === 'armed') signalArmed()
      },
    })
    await armed
    expect((await child.stop()).signal).toBe('SIGKILL')
  })

  it('rejects with KTX_COMMAND_NOT_FOUND for a missing binary', async () => {
    await expect(startProcess('/nonexistent/tun2socks', [])).rejects.toMatchObject({
      code: 'KTX_COMMAND_NOT_FOUND',
    })
  })
})

describe('helpers', () => {
  it('keeps the last 2 KB of output from a line start', () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n')
    const t = tail(long)
    expect(t.length).toBeLessThanOrEqual(2048)
    expect(t.endsWith('line 399')).toBe(true)
    expect(t.startsWith('line ')).toBe(true)
  })

  it('quotes arguments with spaces', () => {
    expect(formatCommand('ip', ['route', 'add', '10.0.0.0/8'])).toBe('ip route add 10.0.0.0/8')
    expect(formatCommand('sh', ['-c', 'a b'])).toBe('sh -c "a b"')
  })
})
