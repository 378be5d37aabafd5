import { describe, expect, it } from 'vitest'

import { renderConnectReady } from './connect.js'

describe('renderConnectReady in socks mode', () => {
  it('prints the proxies and the export lines', () => {
    const lines = renderConnectReady({
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
