import { describe, expect, it } from 'vitest'

import { parseCidr } from '../net/cidr.js'
import { type ResolverConfig, planLookup, searchDomains } from './resolver.js'

const known: ResolverConfig = {
  clusterDomain: 'cluster.local',
  searchNamespaces: ['team-a', 'team-b'],
  namespaces: new Set(['team-a', 'team-b', 'default', 'kube-system']),
  reverseRanges: [parseCidr('10.96.0.0/16'), parseCidr('10.244.0.0/24')],
}
const unknown: ResolverConfig = { ...known, namespaces: undefined }
const configs = { known, unknown }

const show = (name: string, config: ResolverConfig) =>
  planLookup(name, config).map((s) => `${s.target}:${s.name}`)

describe('planLookup', () => {
  it.each([
    // [query, config, expected plan]
    ['web.team-a.svc.cluster.local', 'known', ['cluster:web.team-a.svc.cluster.local']],
    ['WEB.team-a.svc.cluster.local.', 'known', ['cluster:web.team-a.svc.cluster.local']],
    ['cluster.local', 'known', ['cluster:cluster.local']],
    ['pod-0.web.team-a.svc.cluster.local', 'known', ['cluster:pod-0.web.team-a.svc.cluster.local']],
    [
      'web',
      'known',
      ['cluster:web.team-a.svc.cluster.local', 'cluster:web.team-b.svc.cluster.local', 'upstream:web'],
    ],
    ['web.team-a', 'known', ['cluster:web.team-a.svc.cluster.local', 'upstream:web.team-a']],
    ['web.default', 'known', ['cluster:web.default.svc.cluster.local', 'upstream:web.default']],
    ['example.com', 'known', ['upstream:example.com', 'cluster:example.com.svc.cluster.local']],
    ['example.com', 'unknown', ['upstream:example.com', 'cluster:example.com.svc.cluster.local']],
    ['web.team-b', 'unknown', ['cluster:web.team-b.svc.cluster.local', 'upstream:web.team-b']],
    ['web.team-a.svc', 'known', ['cluster:web.team-a.svc.cluster.local']],
    ['pod-0.web.team-a.svc', 'known', ['cluster:pod-0.web.team-a.svc.cluster.local']],
    ['x.public.test', 'known', ['upstream:x.public.test']],
    ['www.example.com', 'unknown', ['upstream:www.example.com']],
    ['10.0.96.10.in-addr.arpa', 'known', ['cluster:10.0.96.10.in-addr.arpa']],
    ['7.0.244.10.in-addr.arpa', 'known', ['cluster:7.0.244.10.in-addr.arpa']],
    ['1.1.168.192.in-addr.arpa', 'known', ['upstream:1.1.168.192.in-addr.arpa']],
    ['96.10.in-addr.arpa', 'known', ['upstream:96.10.in-addr.arpa']],
    ['', 'known', ['upstream:']],
  ] as const)('%s (namespaces %s) → %j', (name, config, expected) => {
    expect(show(name, configs[config])).toEqual(expected)
  })

  it('honours another cluster domain', () => {
    expect(show('web.team-a', { ...known, clusterDomain: 'corp.k8s' })).toEqual([
      'cluster:web.team-a.svc.corp.k8s',
      'upstream:web.team-a',
    ])
    expect(show('web.team-a.svc.cluster.local', { ...known, clusterDomain: 'corp.k8s' })).toEqual([
      'upstream:web.team-a.svc.cluster.local',
    ])
  })

  it('goes to the cluster for IPv6 reverse names in a routed range', () => {
    const v6 = { ...known, reverseRanges: [parseCidr('fd00:10:96::/112')] }
    // fd00:10:96::a000 written out in full, one nibble per label, least significant first.
    const hex = 'fd00001000960000000000000000a000'
    expect(hex).toHaveLength(32)
    const name = `${hex.split('').reverse().join('.')}.ip6.arpa`
    expect(show(name, v6)).toEqual([`cluster:${name}`])
  })
})

describe('searchDomains', () => {
  it('lists each namespace, then svc and the cluster domain', () => {
    expect(searchDomains(known)).toEqual([
      'team-a.svc.cluster.local',
      'team-b.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
    ])
  })
})
