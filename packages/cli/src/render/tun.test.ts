import { parseCidr, planRoutes } from '@ktx/core/net'
import { describe, expect, it } from 'vitest'

import { renderConnectReady } from './connect.js'
import { renderRoutePlan } from './tun.js'

const socks = { host: '127.0.0.1', port: 40001, url: 'socks5h://127.0.0.1:40001' }
const http = { host: '127.0.0.1', port: 40002, url: 'http://127.0.0.1:40002' }

describe('renderConnectReady in tun mode', () => {
  it('says connected with the device, routes, exclusions, DNS and what the probes saw', () => {
    expect(
      renderConnectReady({
        namespace: 'team-a',
        pod: 'ktx-shadow-1',
        socks,
        http,
        tun: {
          device: 'ktx0',
          routes: ['10.96.0.0/16', '10.244.0.0/24'],
          excluded: [{ cidr: '10.244.0.9/32', reason: 'exclude' }],
          tun2socks: { path: '/t', version: '2.6.0', pid: 42 },
          dns: { mode: 'localDNS', address: '127.0.0.153:53', resolver: 'resolv.conf' },
          probes: { tcp: '10.96.0.1', dns: 'kubernetes.default.svc.cluster.local → 10.96.0.1' },
        },
      }),
    ).toEqual([
      'Connected (tun mode): shadow pod team-a/ktx-shadow-1, device ktx0',
      'Routes:   10.96.0.0/16, 10.244.0.0/24',
      'Excluded: 10.244.0.9/32 (exclude)',
      'DNS:      local server 127.0.0.153:53 (resolv.conf)',
      'Probes:   TCP 10.96.0.1; DNS kubernetes.default.svc.cluster.local → 10.96.0.1',
      'tun2socks 2.6.0 (pid 42); SOCKS5 proxy socks5h://127.0.0.1:40001',
      '',
      'Press Ctrl+C to disconnect.',
    ])
  })
})

describe('renderRoutePlan', () => {
  it('shows each route with its source, what is never routed, conflicts and how ranges were found', () => {
    const plan = planRoutes({
      services: [{ cidr: parseCidr('10.96.0.0/16'), source: 'service-cidr-api' }],
      pods: [{ cidr: parseCidr('10.244.0.0/30'), source: 'node-pod-cidrs' }],
      include: [],
      exclude: [parseCidr('10.244.0.1')],
      never: [],
      existing: [{ destination: parseCidr('10.0.0.0/8'), device: 'wg0' }],
      device: 'ktx0',
    })
    const lines = renderRoutePlan({
      device: 'ktx0',
      plan,
      network: {
        services: [],
        pods: [],
        never: [],
        dnsServiceIP: '10.96.0.10',
        kubernetesServiceIP: '10.96.0.1',
        namespaces: undefined,
        notes: ['Service range from the ServiceCIDR API: 10.96.0.0/16'],
      },
    })
    expect(lines).toEqual([
      'Route plan for ktx0 (dry run: nothing was changed)',
      'Routes (3):',
      '  10.96.0.0/16          service-cidr-api',
      '  10.244.0.0/32         node-pod-cidrs',
      '  10.244.0.2/31         node-pod-cidrs',
      'Never routed:',
      '  10.244.0.1/32         exclude',
      'Conflicts with existing routes:',
      '  10.96.0.0/16          overlaps 10.0.0.0/8 dev wg0 (blocks connect)',
      '  10.244.0.0/32         overlaps 10.0.0.0/8 dev wg0 (blocks connect)',
      '  10.244.0.2/31         overlaps 10.0.0.0/8 dev wg0 (blocks connect)',
      'Cluster DNS: 10.96.0.10',
      'How the ranges were found:',
      '  Service range from the ServiceCIDR API: 10.96.0.0/16',
    ])
  })
})
