import type { V1Node, V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { formatCidr } from '../net/cidr.js'
import { type ClusterFacts, assembleClusterNetwork, serviceRangeFromMessage } from './cluster-network.js'

const node = (podCIDRs: string[], internal: string): V1Node => ({
  spec: { podCIDRs },
  status: {
    addresses: [
      { type: 'InternalIP', address: internal },
      { type: 'Hostname', address: 'node-1' },
    ],
  },
})
const pod = (ip: string, hostNetwork = false): V1Pod => ({
  spec: { hostNetwork, containers: [] },
  status: { podIP: ip, podIPs: [{ ip }] },
})

const summary = (facts: ClusterFacts) => {
  const n = assembleClusterNetwork(facts)
  return {
    services: n.services.map((s) => `${formatCidr(s.cidr)} ${s.source}`),
    pods: n.pods.map((s) => `${formatCidr(s.cidr)} ${s.source}`),
    never: n.never.map((s) => `${formatCidr(s.cidr)} ${s.reason}`),
    notes: n.notes,
  }
}

describe('serviceRangeFromMessage', () => {
  it.each([
    [
      'Service "ktx-probe" is invalid: spec.clusterIPs: Invalid value: []string{"0.0.0.1"}: failed to allocate IP 0.0.0.1: the provided IP (0.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
      ['10.96.0.0/16'],
    ],
    [
      '… provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12,fd00:10:96::/112',
      ['10.96.0.0/12', 'fd00:10:96::/112'],
    ],
    ['spec.clusterIPs: Invalid value: "0.0.0.1": field is immutable', []],
  ])('%s', (message, expected) => {
    expect(serviceRangeFromMessage(message).map(formatCidr)).toEqual(expected)
  })
})

describe('assembleClusterNetwork', () => {
  it('prefers the ServiceCIDR API and node podCIDRs; never routes API server, nodes, hostNetwork pods', () => {
    expect(
      summary({
        serviceCidrApi: ['10.96.0.0/16'],
        nodes: [node(['10.244.0.0/24'], '10.200.0.1')],
        pods: [pod('10.244.0.7'), pod('10.200.0.1', true)],
        apiServerAddresses: ['10.200.0.1'],
      }),
    ).toEqual({
      services: ['10.96.0.0/16 service-cidr-api'],
      pods: ['10.244.0.0/24 node-pod-cidrs'],
      never: ['10.200.0.1/32 api-server', '10.200.0.1/32 node', '10.200.0.1/32 host-network-pod'],
      notes: [
        'Service range from the ServiceCIDR API: 10.96.0.0/16',
        'Pod ranges from 1 node(s) spec.podCIDRs',
      ],
    })
  })

  it("uses the API server's dry-run answer when the ServiceCIDR API is not served", () => {
    const s = summary({
      serviceCidrApi: { error: 'servicecidrs not found' },
      dryRunMessage:
        'the provided IP (0.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
      apiServerAddresses: [],
    })
    expect(s.services).toEqual(['10.43.0.0/16 apiserver-dry-run'])
    expect(s.notes[0]).toBe('ServiceCIDR API not usable: servicecidrs not found')
  })

  it('falls back to sampling ClusterIPs, saying so', () => {
    const s = summary({
      serviceCidrApi: { error: 'forbidden' },
      dryRunMessage: { error: 'forbidden' },
      serviceIPs: ['10.43.0.10', '10.43.12.1'],
      apiServerAddresses: [],
    })
    expect(s.services).toEqual(['10.43.0.0/16 service-sample'])
    expect(s.notes.at(-1)).toMatch(/guessed from a sample/)
  })

  it('adds sampled pod ranges only for pod IPs outside every node podCIDR (CNIs that ignore them)', () => {
    const s = summary({
      serviceCidrApi: ['10.96.0.0/16'],
      nodes: [node(['10.244.0.0/24'], '192.168.5.10')],
      pods: [pod('10.244.0.7'), pod('172.20.3.4'), pod('172.20.9.9'), pod('192.168.5.10', true)],
      apiServerAddresses: ['192.168.5.10'],
    })
    expect(s.pods).toEqual(['10.244.0.0/24 node-pod-cidrs', '172.20.0.0/16 pod-sample'])
    expect(s.never).toEqual([
      '192.168.5.10/32 api-server',
      '192.168.5.10/32 node',
      '192.168.5.10/32 host-network-pod',
    ])
  })

  it('samples pods when nodes cannot be read', () => {
    const s = summary({
      serviceCidrApi: ['10.96.0.0/16'],
      nodes: { error: 'Not allowed to list nodes' },
      pods: [pod('10.244.1.7')],
      apiServerAddresses: [],
    })
    expect(s.pods).toEqual(['10.244.0.0/16 pod-sample'])
    expect(s.notes).toContain(
      'Nodes not readable (Not allowed to list nodes); pod ranges come from sampling pods',
    )
  })
})
