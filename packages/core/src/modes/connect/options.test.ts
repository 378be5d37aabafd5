import { describe, expect, it } from 'vitest'

import { isKtxError } from '../../errors.js'
import { DEFAULTS, parsePort } from '../../options.js'
import { resolveConnectOptions } from './options.js'

describe('resolveConnectOptions', () => {
  it('fills defaults and freezes the result', () => {
    const resolved = resolveConnectOptions({ owner: 'me@box' })
    expect(resolved.mode).toBe('socks')
    expect(resolved.image).toBe(DEFAULTS.image)
    expect(resolved.socks).toEqual({ host: '127.0.0.1', port: 0 })
    expect(resolved.http).toEqual({ host: '127.0.0.1', port: 0 })
    expect(resolved.timeouts.podReadyMs).toBe(120_000)
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it('keeps given values and ignores explicit undefined timeouts', () => {
    const resolved = resolveConnectOptions({
      image: 'localhost/ktx-shadow:dev',
      socks: { port: 1080 },
      http: { host: '0.0.0.0', port: 3128 },
      proxyAuth: true,
      timeouts: { podReadyMs: 5_000, sshHandshakeMs: undefined as unknown as number },
    })
    expect(resolved.image).toBe('localhost/ktx-shadow:dev')
    expect(resolved.socks).toEqual({ host: '127.0.0.1', port: 1080 })
    expect(resolved.http).toEqual({ host: '0.0.0.0', port: 3128 })
    expect(resolved.timeouts.podReadyMs).toBe(5_000)
    expect(resolved.timeouts.sshHandshakeMs).toBe(15_000)
  })

  it.each([
    [{ socks: { port: 70_000 } }, 'socks.port'],
    [{ http: { port: -1 } }, 'http.port'],
    [{ image: ' ' }, 'Invalid image'],
    [{ timeouts: { podReadyMs: 0 } }, 'timeouts.podReadyMs'],
    [{ mode: 'vpn' as unknown as 'socks' }, 'Unsupported connect mode'],
    [{ mode: 'tun' as const, tun: { excludeIps: ['10.0.0.300'] } }, '--excludeIps: "10.0.0.300"'],
    [{ mode: 'tun' as const, tun: { device: 'a name with spaces' } }, '--tunName'],
    [{ mode: 'tun' as const, dns: { mode: 'dnsmasq' as 'none' } }, '--dnsMode "dnsmasq"'],
    [{ mode: 'tun' as const, dns: { namespaces: ['Team_A'] } }, '--dnsNamespaces: "Team_A"'],
    [{ leaseDurationSeconds: 3 }, 'leaseDurationSeconds'],
    [{ socks: { host: '0.0.0.0' } }, 'Listening on 0.0.0.0 would let anyone'],
    [{ http: { host: '10.1.2.3' } }, 'Listening on 10.1.2.3 would let anyone'],
    [{ mode: 'tun' as const, proxyAuth: true }, 'proxyAuth applies to socks mode only'],
    [{ proxyAuth: { username: 'me', password: '' } }, 'non-empty username and password'],
    [{ proxyAuth: { username: 'a:b', password: 'pw' } }, 'no ":" in the username'],
    [{ proxyAuth: { username: 'me', password: 'x'.repeat(256) } }, 'at most 255 bytes'],
  ])('rejects %j with a usage error', (input, text) => {
    let caught: unknown
    try {
      resolveConnectOptions(input)
    } catch (error) {
      caught = error
    }
    expect(isKtxError(caught) && caught.code).toBe('KTX_OPTION_INVALID')
    expect(isKtxError(caught) && caught.category).toBe('usage')
    expect((caught as Error).message).toContain(text)
  })
})

describe('proxyAuth', () => {
  it('makes fresh credentials, or takes the given ones; with them a non-loopback address is allowed', () => {
    expect(resolveConnectOptions({}).proxyCredentials).toBeUndefined()
    expect(resolveConnectOptions({ proxyAuth: true }).proxyCredentials).toMatchObject({ username: 'ktx' })
    const own = { username: 'me', password: 'pw' }
    expect(resolveConnectOptions({ proxyAuth: own, socks: { host: '0.0.0.0' } }).proxyCredentials).toEqual(
      own,
    )
    expect(
      resolveConnectOptions({ socks: { host: '127.0.0.2' }, http: { host: '::1' } }).proxyCredentials,
    ).toBeUndefined()
  })
})

describe('parsePort', () => {
  it('accepts numbers and digit strings in range', () => {
    expect(parsePort('p', 0)).toBe(0)
    expect(parsePort('p', '8080')).toBe(8080)
    expect(parsePort('p', 65_535)).toBe(65_535)
  })
  it('rejects anything else', () => {
    for (const bad of ['http', '1.5', 65_536, -1, Number.NaN, ''])
      expect(() => parsePort('p', bad)).toThrow(/p must be/)
  })
})

describe('resolveConnectOptions in tun mode', () => {
  it('parses ranges (single IPs are /32), namespaces and the DNS mode', () => {
    const resolved = resolveConnectOptions({
      mode: 'tun',
      tun: { device: 'ktx9', includeIps: ['172.20.0.0/16'], excludeIps: ['10.244.0.9', '10.96.5.0/24'] },
      dns: { mode: 'hosts', namespaces: ['team-a,team-b', 'team-a'], clusterDomain: 'Corp.K8s.' },
    })
    expect(resolved.mode).toBe('tun')
    expect(resolved.tun.device).toBe('ktx9')
    expect(resolved.tun.exclude.map((c) => `${c.base}/${c.prefix}`)).toEqual([
      `${(10n << 24n) + (244n << 16n) + 9n}/32`,
      `${(10n << 24n) + (96n << 16n) + (5n << 8n)}/24`,
    ])
    expect(resolved.dns).toMatchObject({
      mode: 'hosts',
      namespaces: ['team-a', 'team-b'],
      clusterDomain: 'corp.k8s',
    })
    expect(resolved.timeouts).toMatchObject({ tunReadyMs: 10_000, probeMs: 20_000 })
  })

  it('defaults to localDNS and cluster.local', () => {
    expect(resolveConnectOptions({ mode: 'tun' }).dns).toEqual({
      mode: 'localDNS',
      namespaces: [],
      clusterDomain: 'cluster.local',
      listenHost: undefined,
      hostsFile: undefined,
    })
  })
})
