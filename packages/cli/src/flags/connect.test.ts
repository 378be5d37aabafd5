import { isKtxError } from '@ktx/core'
import { describe, expect, it } from 'vitest'

import { toConnectOptions } from './connect.js'

describe('toConnectOptions', () => {
  it('leaves unset kube flags unset so the context namespace applies', () => {
    expect(toConnectOptions({ mode: 'socks', dataPath: 'direct', socksPort: '0', httpPort: '0' })).toEqual({
      mode: 'socks',
      dataPath: 'direct',
      kube: {},
      socks: { port: 0 },
      http: { port: 0 },
    })
  })

  it('maps every flag', () => {
    expect(
      toConnectOptions({
        mode: 'socks',
        dataPath: 'ssh',
        kubeconfig: '/k',
        context: 'dev',
        namespace: 'team-a',
        image: 'localhost/ktx-shadow:dev',
        podCreationTimeout: 30,
        socksPort: '1080',
        httpPort: '3128',
      }),
    ).toEqual({
      mode: 'socks',
      dataPath: 'ssh',
      kube: { kubeconfig: '/k', context: 'dev', namespace: 'team-a' },
      image: 'localhost/ktx-shadow:dev',
      socks: { port: 1080 },
      http: { port: 3128 },
      timeouts: { podReadyMs: 30_000 },
    })
  })

  it('rejects a bad port as a usage error naming the flag', () => {
    let caught: unknown
    try {
      toConnectOptions({ mode: 'socks', dataPath: 'direct', socksPort: 'abc', httpPort: '0' })
    } catch (error) {
      caught = error
    }
    expect(isKtxError(caught) && caught.category).toBe('usage')
    expect((caught as Error).message).toContain('--socksPort')
  })
})

describe('toConnectOptions in tun mode', () => {
  it('maps the TUN and DNS flags, leaving unset ones to core', () => {
    expect(
      toConnectOptions({
        mode: 'tun',
        dataPath: 'direct',
        socksPort: '0',
        httpPort: '0',
        tunName: 'ktx9',
        tun2socks: '/opt/tun2socks',
        includeIps: ['172.20.0.0/16'],
        excludeIps: ['10.244.0.9,10.244.0.10'],
        dnsMode: 'hosts',
        dnsNamespaces: ['team-b'],
      }),
    ).toEqual({
      mode: 'tun',
      dataPath: 'direct',
      tun: {
        device: 'ktx9',
        tun2socks: '/opt/tun2socks',
        includeIps: ['172.20.0.0/16'],
        excludeIps: ['10.244.0.9,10.244.0.10'],
      },
      dns: { mode: 'hosts', namespaces: ['team-b'] },
      kube: {},
      socks: { port: 0 },
      http: { port: 0 },
    })
  })

  it('ignores TUN flags in socks mode', () => {
    expect(
      toConnectOptions({ mode: 'socks', dataPath: 'direct', socksPort: '0', httpPort: '0', tunName: 'x' }),
    ).not.toHaveProperty('tun')
  })
})
