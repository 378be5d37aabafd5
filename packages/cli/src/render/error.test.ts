import { PermissionError, UsageError } from '@ktx/core'
import { describe, expect, it } from 'vitest'

import { Interrupted, renderError } from './error.js'

describe('renderError', () => {
  it('prints the code, message and suggestions with the category exit code', () => {
    const error = new PermissionError('KTX_KUBE_FORBIDDEN', 'Not allowed to create pods in namespace "a"', {
      suggestions: ['Ask for RBAC rights.'],
    })
    expect(renderError(error)).toEqual({
      lines: [
        'Error (KTX_KUBE_FORBIDDEN): Not allowed to create pods in namespace "a"',
        'Try this:',
        '  Ask for RBAC rights.',
      ],
      exitCode: 4,
    })
    expect(renderError(new UsageError('bad')).exitCode).toBe(2)
  })

  it('treats foreign errors as bugs (exit 1) and interrupts as 130', () => {
    expect(renderError(new TypeError('x is undefined'))).toMatchObject({ exitCode: 1 })
    expect(renderError(new Interrupted('SIGINT'))).toEqual({
      lines: ['Interrupted by SIGINT'],
      exitCode: 130,
    })
  })
})
