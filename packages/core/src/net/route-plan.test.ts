import { describe, expect, it } from 'vitest'

import { formatCidr, parseCidr } from './cidr.js'
import {
  type ExcludeReason,
  type ExistingRoute,
  type RoutePlanInput,
  cidrsFromSample,
  planRoutes,
} from './route-plan.js'

const c = (text: string) => parseCidr(text)

interface Case {
  readonly name: string
  readonly services?: string[]
  readonly pods?: string[]
  readonly include?: string[]
  readonly exclude?: string[]
  readonly never?: [string, ExcludeReason][]
  readonly existing?: [string, string][]
  readonly routes: string[]
  readonly excluded?: string[]
  readonly conflicts?: string[]
}

function input(t: Case): RoutePlanInput {
  return {
    services: (t.services ?? []).map((s) => ({ cidr: c(s), source: 'service-cidr-api' as const })),
    pods: (t.pods ?? []).map((s) => ({ cidr: c(s), source: 'node-pod-cidrs' as const })),
    include: (t.include ?? []).map(c),
    exclude: (t.exclude ?? []).map(c),
    never: (t.never ?? []).map(([cidr, reason]) => ({ cidr: c(cidr), reason })),
    existing: (t.existing ?? []).map(([dst, device]): ExistingRoute => ({ destination: c(dst), device })),
    device: 'ktx0',
  }
}

const cases: Case[] = [
  {
    name: 'service and pod ranges become routes as they are',
    services: ['10.96.0.0/16'],
    pods: ['10.244.0.0/24', '10.244.1.0/24'],
    routes: ['10.96.0.0/16', '10.244.0.0/23'],
  },
  {
    name: 'a single excluded Pod IP is a real hole (ktctl ignored it)',
    pods: ['10.244.0.0/24'],
    exclude: ['10.244.0.9'],
    routes: [
      '10.244.0.0/29',
      '10.244.0.8/32',
      '10.244.0.10/31',
      '10.244.0.12/30',
      '10.244.0.16/28',
      '10.244.0.32/27',
      '10.244.0.64/26',
      '10.244.0.128/25',
    ],
    excluded: ['10.244.0.9/32 exclude'],
  },
  {
    name: 'excluding a whole range removes it',
    services: ['10.96.0.0/16'],
    pods: ['10.244.0.0/24'],
    exclude: ['10.244.0.0/16'],
    routes: ['10.96.0.0/16'],
    excluded: ['10.244.0.0/16 exclude'],
  },
  {
    name: 'the API server, nodes and hostNetwork pods are carved out of a wide range',
    pods: ['10.200.0.0/29'],
    never: [
      ['10.200.0.1', 'api-server'],
      ['10.200.0.2', 'node'],
      ['10.200.0.2', 'host-network-pod'],
    ],
    routes: ['10.200.0.0/32', '10.200.0.3/32', '10.200.0.4/30'],
    excluded: ['10.200.0.1/32 api-server', '10.200.0.2/32 node', '10.200.0.2/32 host-network-pod'],
  },
  {
    name: "this machine's own subnet is never routed, even when included",
    include: ['192.168.0.0/16'],
    never: [['192.168.1.0/24', 'local-subnet']],
    routes: [
      '192.168.0.0/24',
      '192.168.2.0/23',
      '192.168.4.0/22',
      '192.168.8.0/21',
      '192.168.16.0/20',
      '192.168.32.0/19',
      '192.168.64.0/18',
      '192.168.128.0/17',
    ],
    excluded: ['192.168.1.0/24 local-subnet'],
  },
  {
    name: 'exclusions outside every range are not reported',
    services: ['10.96.0.0/16'],
    exclude: ['172.16.0.1'],
    never: [['10.201.0.0/30', 'local-subnet']],
    routes: ['10.96.0.0/16'],
  },
  {
    name: 'include adds ranges and merges with discovered ones',
    services: ['10.96.0.0/17'],
    include: ['10.96.128.0/17', '172.20.0.0/16'],
    routes: ['10.96.0.0/16', '172.20.0.0/16'],
  },
  {
    name: 'an existing wider route is a blocking conflict',
    services: ['10.96.0.0/16'],
    existing: [['10.0.0.0/8', 'wg0']],
    routes: ['10.96.0.0/16'],
    conflicts: ['10.96.0.0/16 ~ 10.0.0.0/8 dev wg0 blocking'],
  },
  {
    name: 'an existing narrower route is a blocking conflict too',
    pods: ['10.244.0.0/16'],
    existing: [['10.244.7.0/24', 'eth1']],
    routes: ['10.244.0.0/16'],
    conflicts: ['10.244.0.0/16 ~ 10.244.7.0/24 dev eth1 blocking'],
  },
  {
    name: 'a range asked for with --includeIps takes over deliberately (reported, not blocking)',
    services: ['10.96.0.0/16'],
    include: ['10.96.0.0/16'],
    existing: [['10.0.0.0/8', 'wg0']],
    routes: ['10.96.0.0/16'],
    conflicts: ['10.96.0.0/16 ~ 10.0.0.0/8 dev wg0 accepted'],
  },
  {
    name: 'excluding the overlap resolves the conflict',
    pods: ['10.244.0.0/22'],
    exclude: ['10.244.3.0/24'],
    existing: [['10.244.3.0/24', 'eth1']],
    routes: ['10.244.0.0/23', '10.244.2.0/24'],
    excluded: ['10.244.3.0/24 exclude'],
  },
  {
    name: 'the default route and routes on our own device never conflict',
    services: ['10.96.0.0/16'],
    existing: [
      ['0.0.0.0/0', 'eth0'],
      ['10.96.0.0/16', 'ktx0'],
    ],
    routes: ['10.96.0.0/16'],
  },
  {
    name: 'IPv6 ranges are planned the same way',
    services: ['10.96.0.0/16', 'fd00:10:96::/112'],
    exclude: ['fd00:10:96::a'],
    routes: [
      '10.96.0.0/16',
      'fd00:10:96::/125',
      'fd00:10:96::8/127',
      'fd00:10:96::b/128',
      'fd00:10:96::c/126',
      'fd00:10:96::10/124',
      'fd00:10:96::20/123',
      'fd00:10:96::40/122',
      'fd00:10:96::80/121',
      'fd00:10:96::100/120',
      'fd00:10:96::200/119',
      'fd00:10:96::400/118',
      'fd00:10:96::800/117',
      'fd00:10:96::1000/116',
      'fd00:10:96::2000/115',
      'fd00:10:96::4000/114',
      'fd00:10:96::8000/113',
    ],
    excluded: ['fd00:10:96::a/128 exclude'],
  },
  {
    name: 'nothing discovered and nothing included plans nothing',
    never: [['10.200.0.1', 'api-server']],
    routes: [],
  },
]

describe('planRoutes', () => {
  it.each(cases)('$name', (t) => {
    const plan = planRoutes(input(t))
    expect(plan.routes.map(formatCidr)).toEqual(t.routes)
    expect(plan.excluded.map((e) => `${formatCidr(e.cidr)} ${e.reason}`)).toEqual(t.excluded ?? [])
    expect(
      plan.conflicts.map(
        (x) =>
          `${formatCidr(x.route)} ~ ${formatCidr(x.existing.destination)} dev ${x.existing.device} ${x.blocking ? 'blocking' : 'accepted'}`,
      ),
    ).toEqual(t.conflicts ?? [])
  })

  it('keeps the sources for the dry-run', () => {
    const plan = planRoutes(
      input({ name: '', services: ['10.96.0.0/16'], include: ['10.1.0.0/16'], routes: [] }),
    )
    expect(plan.sources.map((s) => `${formatCidr(s.cidr)} ${s.source}`)).toEqual([
      '10.96.0.0/16 service-cidr-api',
      '10.1.0.0/16 include',
    ])
  })
})

describe('cidrsFromSample', () => {
  it('widens sampled pod IPs to their /16 (IPv4) or /64 (IPv6) and merges', () => {
    expect(
      cidrsFromSample(['10.244.0.5', '10.244.9.7', '10.245.1.1', 'fd00:1:2:3::9'].map(c)).map(formatCidr),
    ).toEqual(['10.244.0.0/15', 'fd00:1:2:3::/64'])
  })
})
