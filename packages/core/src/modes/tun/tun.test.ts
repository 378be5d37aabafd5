import { describe, expect, it } from 'vitest'

import type { ClusterNetwork } from '../../kube/cluster-network.js'
import { parseCidr } from '../../net/cidr.js'
import { planRoutes } from '../../net/route-plan.js'
import { RecordingHost } from '../../testing/recording-host.js'
import { resolveTunOptions } from './options.js'
import { preflightTun } from './preflight.js'
import { checkPlan } from './routes.js'

const LINK_MISSING = { exitCode: 1, stderr: 'Device "ktx0" does not exist.' }

function host(): RecordingHost {
  const h = new RecordingHost('linux')
  h.onPath.set('tun2socks', '/usr/bin/tun2socks')
  return h
    .on('/usr/bin/tun2socks -version', { stdout: 'tun2socks-2.6.0' })
    .on('ip -j link show dev ktx0', LINK_MISSING)
}

describe('preflightTun', () => {
  it('passes as root with tun2socks and a free device name, having changed nothing', async () => {
    const h = host()
    const preflight = await preflightTun({ host: h, stateDir: '/s', tun: resolveTunOptions() })
    expect(preflight.device).toBe('ktx0')
    expect(preflight.binary).toEqual({ path: '/usr/bin/tun2socks', version: '2.6.0' })
    expect(h.commands).toEqual(['/usr/bin/tun2socks -version', 'ip -j link show dev ktx0'])
  })

  it('refuses without root first, saying how to get root or use socks mode', async () => {
    const h = host()
    h.elevated = false
    await expect(preflightTun({ host: h, stateDir: '/s', tun: resolveTunOptions() })).rejects.toMatchObject({
      code: 'KTX_TUN_REQUIRES_ELEVATION',
      category: 'permission',
      suggestions: [
        'Run it with sudo, keeping your kubeconfig: sudo -E ktx connect …',
        'Or use --mode socks, which needs no root (SOCKS5 and HTTP proxies).',
      ],
    })
    expect(h.commands).toEqual([])
  })

  it('refuses a device name that is taken, pointing at --tunName and ktx clean', async () => {
    const h = host().on('ip -j link show dev ktx0', { stdout: '[{"ifname":"ktx0","flags":["UP"]}]' })
    await expect(preflightTun({ host: h, stateDir: '/s', tun: resolveTunOptions() })).rejects.toMatchObject({
      code: 'KTX_TUN_NAME_TAKEN',
      message: 'A network device named "ktx0" exists already',
      suggestions: [
        'Pick another name with --tunName <name>.',
        'If a crashed ktx session left it behind, run `ktx clean`.',
      ],
    })
  })

  it('uses --tunName and --tun2socks', async () => {
    const h = new RecordingHost('linux')
      .on('/opt/t2s -version', { stdout: 'tun2socks-2.6.0' })
      .on('ip -j link show dev ktx7', LINK_MISSING)
    const preflight = await preflightTun({
      host: h,
      stateDir: '/s',
      tun: resolveTunOptions({ device: 'ktx7', tun2socks: '/opt/t2s' }),
    })
    expect([preflight.device, preflight.binary.path]).toEqual(['ktx7', '/opt/t2s'])
  })

  it('on Windows asks `net session` whether it runs as Administrator', async () => {
    const h = new RecordingHost('win32').on('net session', { exitCode: 2, stderr: 'Access is denied.' })
    await expect(
      preflightTun({ host: h, stateDir: 'C:\\s', tun: resolveTunOptions() }),
    ).rejects.toMatchObject({
      code: 'KTX_TUN_REQUIRES_ELEVATION',
      message: expect.stringContaining('Administrator') as unknown,
    })
  })
})

const network: ClusterNetwork = {
  services: [],
  pods: [],
  never: [],
  dnsServiceIP: undefined,
  kubernetesServiceIP: undefined,
  namespaces: undefined,
  notes: ['No Service range found; pass it with --includeIps'],
}

describe('checkPlan', () => {
  const base = {
    pods: [],
    include: [],
    exclude: [],
    never: [],
    device: 'ktx0',
  }

  it('stops on a blocking conflict, suggesting the exact --excludeIps', () => {
    const plan = planRoutes({
      ...base,
      services: [{ cidr: parseCidr('10.96.0.0/16'), source: 'service-cidr-api' }],
      existing: [{ destination: parseCidr('10.96.0.0/12'), device: 'wg0', gateway: '10.9.0.1' }],
    })
    expect(() => checkPlan(plan, network)).toThrow(
      expect.objectContaining({
        code: 'KTX_ROUTE_CONFLICT',
        message:
          "Planned routes conflict with this machine's routes: 10.96.0.0/16 overlaps the existing route 10.96.0.0/12 dev wg0 via 10.9.0.1",
        suggestions: [
          'Leave it alone: --excludeIps 10.96.0.0/12',
          'Or take the range over deliberately: --includeIps <range>.',
          'See the whole plan with --dryRun.',
        ],
      }),
    )
  })

  it('stops when there is nothing to route', () => {
    const plan = planRoutes({ ...base, services: [], existing: [] })
    expect(() => checkPlan(plan, network)).toThrow(
      expect.objectContaining({ code: 'KTX_CLUSTER_CIDR_UNKNOWN' }),
    )
  })

  it('lets a plan with only accepted conflicts through', () => {
    const plan = planRoutes({
      ...base,
      services: [{ cidr: parseCidr('10.96.0.0/16'), source: 'service-cidr-api' }],
      include: [parseCidr('10.96.0.0/16')],
      existing: [{ destination: parseCidr('10.0.0.0/8'), device: 'wg0' }],
    })
    expect(() => checkPlan(plan, network)).not.toThrow()
  })
})
