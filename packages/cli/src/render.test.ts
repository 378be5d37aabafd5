import { PermissionError, UsageError } from '@ktx/core'
import { describe, expect, it } from 'vitest'

import { Interrupted, renderError, renderReady } from './render.js'

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

describe('renderReady', () => {
  it('prints the proxies and the export lines', () => {
    const lines = renderReady({
      namespace: 'ns',
      pod: 'ktx-shadow-1',
      socks: { host: '127.0.0.1', port: 1080, url: 'socks5h://127.0.0.1:1080' },
      http: { host: '127.0.0.1', port: 3128, url: 'http://127.0.0.1:3128' },
    })
    expect(lines).toContain('export ALL_PROXY=socks5h://127.0.0.1:1080')
    expect(lines).toContain('export HTTP_PROXY=http://127.0.0.1:3128')
    expect(lines).toContain('export HTTPS_PROXY=http://127.0.0.1:3128')
  })
})
