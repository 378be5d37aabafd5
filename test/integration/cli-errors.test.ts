/**
 * Errors from the built CLI, before any cluster is contacted: a refused argument and a bad flag
 * value, human and `--json`. Each names its code, says what to try and points at a log file that
 * exists and holds the error; the exit code is the category's (2 for usage).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { KTX_BIN } from '../harness/ktx.js'

const state = mkdtempSync(join(tmpdir(), 'ktx-cli-errors-'))

function ktx(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [KTX_BIN, ...args],
      { env: { ...process.env, KTX_STATE_DIR: state, KUBECONFIG: join(state, 'no-kubeconfig') } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr })
      },
    )
  })
}

describe('ktx errors', () => {
  it('a missing argument: Error (KTX_USAGE), the command help, the log; exit 2', async () => {
    const result = await ktx(['exchange'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const lines = result.stderr.trim().split('\n')
    expect(lines[0]).toBe('Error (KTX_USAGE): Missing 1 required arg:')
    expect(lines).toContain('Try this:')
    expect(lines).toContain('  ktx exchange --help')
    const log = /^Details: (.+)$/m.exec(result.stderr)?.[1]
    expect(log !== undefined && existsSync(log)).toBe(true)
    expect(readFileSync(log!, 'utf8')).toContain('"code":"KTX_USAGE"')
  })

  it('a bad --expose: the core code and its suggestion; exit 2', async () => {
    const result = await ktx(['exchange', 'web', '--expose', 'abc', '-n', 'x'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^Error \(KTX_OPTION_INVALID\): --expose entry "abc" is not "port" or "local:remote"\nTry this:\n {2}Use local:remote pairs/,
    )
  })

  it('--json: exactly one error object on stdout, nothing human there; exit 2', async () => {
    const result = await ktx(['exchange', 'web', '--expose', 'abc', '--json'])
    expect(result.code).toBe(2)
    const lines = result.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      type: 'error',
      command: 'exchange',
      code: 'KTX_OPTION_INVALID',
      category: 'usage',
      exitCode: 2,
      suggestions: [expect.stringContaining('local:remote') as string],
      log: expect.stringContaining(join(state, 'logs')) as string,
    })
  })

  it('--json on a command that succeeds: one result line', async () => {
    const result = await ktx(['completion', 'bash', '--json'])
    expect(result.code).toBe(0)
    const value = JSON.parse(result.stdout) as { type: string; result: { shell: string; script: string } }
    expect(value.type).toBe('result')
    expect(value.result.shell).toBe('bash')
    expect(value.result.script).toContain('complete -F _ktx ktx')
  })
})
