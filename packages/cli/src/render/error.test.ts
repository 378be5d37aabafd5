import { Errors } from '@oclif/core'
import { CleanupError, PermissionError, TimeoutError, UsageError } from '@ktx/core'
import { describe, expect, it } from 'vitest'

import { Interrupted, describeError, renderError } from './error.js'

const LOG = '/home/dev/.ktx/logs/ktx-2026-01-01T00-00-00-000Z-42.log'

function rendered(error: unknown, help?: string): string {
  const report = describeError(error, help)
  return [`exit ${report.exitCode}`, ...renderError(report, LOG)].join('\n')
}

describe('error rendering', () => {
  it('a ktx error: code, message, one suggestion a line, the log; exit by category', () => {
    const error = new PermissionError('KTX_KUBE_FORBIDDEN', 'Not allowed to create pods in namespace "a"', {
      suggestions: ['Ask for RBAC rights.', 'Or use a namespace you own: -n <namespace>.'],
    })
    expect(rendered(error)).toMatchInlineSnapshot(`
      "exit 4
      Error (KTX_KUBE_FORBIDDEN): Not allowed to create pods in namespace "a"
      Try this:
        Ask for RBAC rights.
        Or use a namespace you own: -n <namespace>.
      Details: /home/dev/.ktx/logs/ktx-2026-01-01T00-00-00-000Z-42.log"
    `)
  })

  it('gives each category its documented exit code', () => {
    const codes = [
      new UsageError('bad'),
      new PermissionError('KTX_TUN_REQUIRES_ELEVATION', 'root needed'),
      new TimeoutError('KTX_SHADOW_NOT_READY', 'not ready', {
        option: 'timeouts.podReadyMs',
        timeoutMs: 60_000,
      }),
      new CleanupError('left', []),
      new TypeError('x is undefined'),
      new Interrupted('SIGINT'),
    ].map((e) => `${describeError(e).code} ${describeError(e).exitCode}`)
    expect(codes).toEqual([
      'KTX_OPTION_INVALID 2',
      'KTX_TUN_REQUIRES_ELEVATION 4',
      'KTX_SHADOW_NOT_READY 6',
      'KTX_CLEANUP_INCOMPLETE 9',
      'KTX_INTERNAL 1',
      'KTX_INTERRUPTED 130',
    ])
  })

  it('a flag oclif refused: KTX_USAGE, its message once, the command help; exit 2', () => {
    const error = new Errors.CLIError('Missing required flag expose\nSee more help with --help', { exit: 2 })
    expect(rendered(error, 'ktx exchange --help')).toMatchInlineSnapshot(`
      "exit 2
      Error (KTX_USAGE): Missing required flag expose
      Try this:
        ktx exchange --help
      Details: /home/dev/.ktx/logs/ktx-2026-01-01T00-00-00-000Z-42.log"
    `)
  })

  it('a foreign error is a bug: KTX_INTERNAL, asks for a report with the log; exit 1', () => {
    expect(rendered(new TypeError("Cannot read properties of undefined (reading 'spec')")))
      .toMatchInlineSnapshot(`
      "exit 1
      Error (KTX_INTERNAL): Cannot read properties of undefined (reading 'spec')
      Try this:
        This looks like a bug in ktx; please report it with the log file below and the output of --debug.
      Details: /home/dev/.ktx/logs/ktx-2026-01-01T00-00-00-000Z-42.log"
    `)
  })

  it('an interrupt says only that', () => {
    expect(renderError(describeError(new Interrupted('SIGINT')))).toEqual(['Interrupted by SIGINT'])
  })
})
