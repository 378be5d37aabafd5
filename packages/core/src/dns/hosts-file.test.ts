import { describe, expect, it } from 'vitest'

import { runUndo } from '../host/undo.js'
import { RecordingHost } from '../testing/recording-host.js'
import { addHostsBlock, hostsEntries, updateHostsBlock, withHostsBlock } from './hosts-file.js'

const services = [
  { name: 'web', namespace: 'team-a', clusterIP: '10.96.0.20', endpointIPs: ['10.244.0.5'] },
  { name: 'db', namespace: 'team-a', endpointIPs: ['10.244.0.9', '10.244.0.10'] },
  { name: 'api', namespace: 'team-b', clusterIP: '10.96.0.30', endpointIPs: [] },
  { name: 'empty', namespace: 'team-b', endpointIPs: [] },
]

describe('hosts entries', () => {
  it('names every Service in its namespace forms, short names for the first namespace only', () => {
    expect(hostsEntries(services, { shortNameNamespace: 'team-a', clusterDomain: 'cluster.local' })).toEqual([
      { ip: '10.96.0.30', names: ['api.team-b', 'api.team-b.svc', 'api.team-b.svc.cluster.local'] },
      { ip: '10.244.0.9', names: ['db', 'db.team-a', 'db.team-a.svc', 'db.team-a.svc.cluster.local'] },
      { ip: '10.96.0.20', names: ['web', 'web.team-a', 'web.team-a.svc', 'web.team-a.svc.cluster.local'] },
    ])
  })
})

describe('hosts block', () => {
  const entries = [{ ip: '10.96.0.20', names: ['web', 'web.team-a'] }]

  it('appends a marked block and replaces it in place later, keeping other lines byte for byte', () => {
    const original = '127.0.0.1 localhost\n::1 localhost'
    const first = withHostsBlock(original, 's1', entries)
    expect(first).toBe(
      '127.0.0.1 localhost\n::1 localhost\n# ktx hosts begin (session s1)\n10.96.0.20 web web.team-a\n# ktx hosts end (session s1)\n',
    )
    const other = `${first}10.0.0.1 added-later\n`
    expect(withHostsBlock(other, 's1', [])).toBe(
      '127.0.0.1 localhost\n::1 localhost\n10.0.0.1 added-later\n# ktx hosts begin (session s1)\n# ktx hosts end (session s1)\n',
    )
  })

  it('keeps Windows line endings', () => {
    expect(withHostsBlock('127.0.0.1 localhost\r\n', 's', entries)).toBe(
      '127.0.0.1 localhost\r\n# ktx hosts begin (session s)\r\n10.96.0.20 web web.team-a\r\n# ktx hosts end (session s)\r\n',
    )
  })

  it('is journalled as a block removal that restores the file exactly', async () => {
    const original = '127.0.0.1 localhost\n'
    const host = new RecordingHost().file('/etc/hosts', original)
    const change = addHostsBlock(host, '/etc/hosts', 's1', entries)
    await change.apply()
    await updateHostsBlock(host, '/etc/hosts', 's1', [{ ip: '10.96.0.21', names: ['web'] }])
    expect(host.text('/etc/hosts')).toContain('10.96.0.21 web\n')
    expect(host.text('/etc/hosts')).not.toContain('10.96.0.20')
    await runUndo(host, change.undo)
    expect(host.text('/etc/hosts')).toBe(original)
  })
})
