import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { CleanupStack } from '../../util/cleanup-stack.js'
import { openJournal } from '../../host/journal.js'
import { applyChange } from '../../host/undo.js'
import { noopLogger } from '../../logger.js'
import { RecordingHost } from '../../testing/recording-host.js'
import { formatCidr, parseCidr } from '../cidr.js'
import type { ExistingRoute } from '../route-plan.js'
import { parseIfconfig, parseNetstat } from './darwin.js'
import { openRouteTable } from './index.js'
import type { LocalAddress } from './types.js'
import { parseAddresses as parsePsAddresses, parseRoutes as parsePsRoutes } from './windows.js'

const routes = (list: ExistingRoute[]) =>
  list.map((r) => `${formatCidr(r.destination)} ${r.device}${r.gateway ? ` via ${r.gateway}` : ''}`)
const addresses = (list: LocalAddress[]) =>
  list.map((a) => `${a.device} ${formatCidr(a.address)} in ${formatCidr(a.subnet)}`)

// Recorded in the test cluster's laptop namespace.
const IP_ROUTE =
  '[{"dst":"10.200.0.1","gateway":"10.201.0.1","dev":"ktx-lap-l","flags":[]},{"dst":"10.201.0.0/30","dev":"ktx-lap-l","protocol":"kernel","scope":"link","prefsrc":"10.201.0.2","flags":[]},{"dst":"default","gateway":"10.201.0.1","dev":"ktx-lap-l","flags":[]},{"type":"blackhole","dst":"10.99.0.0/16","flags":[]}]'
const IP6_ROUTE =
  '[{"dst":"fe80::/64","dev":"ktx-lap-l","protocol":"kernel","metric":256,"flags":[],"pref":"medium"}]'
const IP_ADDR =
  '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},{"family":"inet6","local":"::1","prefixlen":128}]},{"ifindex":37,"ifname":"ktx-lap-l","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"addr_info":[{"family":"inet","local":"10.201.0.2","prefixlen":30},{"family":"inet6","local":"fe80::8c32:8fff:fec3:7ebb","prefixlen":64}]}]'

describe('linux route table', () => {
  const host = () =>
    new RecordingHost('linux')
      .on('ip -j route show table main', { stdout: IP_ROUTE })
      .on('ip -6 -j route show table main', { stdout: IP6_ROUTE })
      .on('ip -j addr show', { stdout: IP_ADDR })

  it('reads routes (default, host routes without a prefix, other route types) of both families', async () => {
    expect(routes(await openRouteTable(host()).listRoutes())).toEqual([
      '10.200.0.1/32 ktx-lap-l via 10.201.0.1',
      '10.201.0.0/30 ktx-lap-l',
      '0.0.0.0/0 ktx-lap-l via 10.201.0.1',
      '10.99.0.0/16 blackhole',
      'fe80::/64 ktx-lap-l',
    ])
  })

  it("reads this machine's addresses with their subnets", async () => {
    expect(addresses(await openRouteTable(host()).localAddresses())).toEqual([
      'lo 127.0.0.1/32 in 127.0.0.0/8',
      'lo ::1/128 in ::1/128',
      'ktx-lap-l 10.201.0.2/32 in 10.201.0.0/30',
      'ktx-lap-l fe80::8c32:8fff:fec3:7ebb/128 in fe80::/64',
    ])
  })

  it('tells a missing link, a TUN nobody holds open and one tun2socks attached to', async () => {
    const h = host()
      .on('ip -j link show dev gone', { exitCode: 1, stderr: 'Device "gone" does not exist.' })
      .on('ip -j link show dev ktx0', {
        stdout: '[{"ifname":"ktx0","flags":["NO-CARRIER","POINTOPOINT","MULTICAST","NOARP","UP"]}]',
      })
      .on('ip -j link show dev ktx1', {
        stdout: '[{"ifname":"ktx1","flags":["POINTOPOINT","MULTICAST","NOARP","UP","LOWER_UP"]}]',
      })
    const table = openRouteTable(h)
    expect(await table.link('gone')).toEqual({ exists: false, up: false, carrier: false })
    expect(await table.link('ktx0')).toEqual({ exists: true, up: true, carrier: false })
    expect(await table.link('ktx1')).toEqual({ exists: true, up: true, carrier: true })
  })

  it('runs the exact ip argv for each change and journals the matching undo', async () => {
    const h = host()
    const table = openRouteTable(h)
    const changes = [
      table.createTun!('ktx0'),
      table.addRoute(parseCidr('10.96.0.0/16'), 'ktx0'),
      table.addRoute(parseCidr('fd00:10:96::/112'), 'ktx0'),
      table.addAddress('ktx0', parseCidr('198.18.0.53')),
    ]
    for (const change of changes) await change.apply()
    await table.setUp('ktx0')
    expect(h.commands).toEqual([
      'ip tuntap add dev ktx0 mode tun',
      'ip route add 10.96.0.0/16 dev ktx0',
      'ip -6 route add fd00:10:96::/112 dev ktx0',
      'ip addr add 198.18.0.53/32 dev ktx0',
      'ip link set dev ktx0 up',
    ])
    expect(changes.map((c) => [c.description, c.undo])).toEqual([
      ['TUN device ktx0', expect.objectContaining({ op: 'run', argv: ['ip', 'link', 'delete', 'ktx0'] })],
      [
        'route 10.96.0.0/16 dev ktx0',
        expect.objectContaining({ argv: ['ip', 'route', 'delete', '10.96.0.0/16', 'dev', 'ktx0'] }),
      ],
      [
        'route fd00:10:96::/112 dev ktx0',
        expect.objectContaining({ argv: ['ip', '-6', 'route', 'delete', 'fd00:10:96::/112', 'dev', 'ktx0'] }),
      ],
      [
        'address 198.18.0.53/32 on ktx0',
        expect.objectContaining({ argv: ['ip', 'addr', 'delete', '198.18.0.53/32', 'dev', 'ktx0'] }),
      ],
    ])
  })

  it('a route that exists already fails instead of being replaced', async () => {
    const h = host().on('ip route add 10.96.0.0/16', {
      exitCode: 2,
      stderr: 'RTNETLINK answers: File exists',
    })
    await expect(openRouteTable(h).addRoute(parseCidr('10.96.0.0/16'), 'ktx0').apply()).rejects.toThrow(
      'ip route add 10.96.0.0/16 dev ktx0 exited with code 2: RTNETLINK answers: File exists',
    )
  })

  it('works with applyChange: the undo after the device is gone counts as done', async () => {
    const h = host().on('ip route delete 10.96.0.0/16', {
      exitCode: 2,
      stderr: 'Cannot find device "ktx0"',
    })
    const journal = await openJournal({
      stateDir: await mkdtemp(join(tmpdir(), 'ktx-routes-')),
      session: 's',
      owner: { pid: 1, startedAt: 'x' },
    })
    const stack = new CleanupStack()
    const change = openRouteTable(h).addRoute(parseCidr('10.96.0.0/16'), 'ktx0')
    await applyChange({ host: h, journal, stack, logger: noopLogger }, change.description, change.undo, () =>
      change.apply(),
    )
    await stack.unwind()
    expect(journal.entries).toEqual([])
  })
})

describe('darwin route table', () => {
  const NETSTAT = `Routing tables

Internet:
Destination        Gateway            Flags               Netif Expire
default            192.168.1.1        UGScg                 en0
10.96/16           utun5              USc                 utun5
127                127.0.0.1          UCS                   lo0
127.0.0.1          127.0.0.1          UH                    lo0
169.254            link#6             UCS                   en0      !
192.168.1          link#6             UCS                   en0      !
192.168.1.1/32     link#6             UCS                   en0      !
192.168.1.20       a4:83:e7:1:2:3     UHLWIi                en0   1187
`
  it('expands abbreviated networks and host routes', () => {
    expect(routes(parseNetstat(NETSTAT, 4))).toEqual([
      '0.0.0.0/0 en0 via 192.168.1.1',
      '10.96.0.0/16 utun5 via utun5',
      '127.0.0.0/8 lo0 via 127.0.0.1',
      '127.0.0.1/32 lo0 via 127.0.0.1',
      '169.254.0.0/16 en0',
      '192.168.1.0/24 en0',
      '192.168.1.1/32 en0',
      '192.168.1.20/32 en0 via a4:83:e7:1:2:3',
    ])
  })

  it('reads ifconfig addresses and netmasks', () => {
    const IFCONFIG = `lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384
\tinet 127.0.0.1 netmask 0xff000000
\tinet6 ::1 prefixlen 128
\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1
en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tinet 192.168.1.5 netmask 0xffffff00 broadcast 192.168.1.255
utun5: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1500
\tinet 198.18.0.1 --> 198.18.0.1 netmask 0xffffffff
`
    expect(addresses(parseIfconfig(IFCONFIG))).toEqual([
      'lo0 127.0.0.1/32 in 127.0.0.0/8',
      'lo0 ::1/128 in ::1/128',
      'lo0 fe80::1/128 in fe80::/64',
      'en0 192.168.1.5/32 in 192.168.1.0/24',
      'utun5 198.18.0.1/32 in 198.18.0.1/32',
    ])
  })

  it('adds and deletes routes with route -n, bound to the interface', async () => {
    const h = new RecordingHost('darwin')
    const table = openRouteTable(h)
    expect('createTun' in table).toBe(false)
    const change = table.addRoute(parseCidr('10.96.0.0/16'), 'utun7')
    await change.apply()
    expect(h.commands).toEqual(['route -n add -net 10.96.0.0/16 -interface utun7'])
    expect(change.undo).toMatchObject({
      argv: ['route', '-n', 'delete', '-net', '10.96.0.0/16', '-interface', 'utun7'],
    })
  })
})

describe('windows route table', () => {
  it('parses Get-NetRoute and Get-NetIPAddress JSON', () => {
    expect(
      routes(
        parsePsRoutes([
          { DestinationPrefix: '0.0.0.0/0', InterfaceAlias: 'Ethernet', NextHop: '192.168.1.1' },
          { DestinationPrefix: '192.168.1.0/24', InterfaceAlias: 'Ethernet', NextHop: '0.0.0.0' },
          { DestinationPrefix: 'fe80::/64', InterfaceAlias: 'Ethernet', NextHop: '::' },
        ]),
      ),
    ).toEqual(['0.0.0.0/0 Ethernet via 192.168.1.1', '192.168.1.0/24 Ethernet', 'fe80::/64 Ethernet'])
    expect(
      addresses(
        parsePsAddresses([
          { IPAddress: '192.168.1.7', PrefixLength: 24, InterfaceAlias: 'Ethernet' },
          { IPAddress: 'fe80::1%12', PrefixLength: 64, InterfaceAlias: 'Ethernet' },
        ]),
      ),
    ).toEqual(['Ethernet 192.168.1.7/32 in 192.168.1.0/24', 'Ethernet fe80::1/128 in fe80::/64'])
  })

  it('adds active-store routes only (they never survive a reboot) and reads a lone JSON object', async () => {
    const h = new RecordingHost('win32').on('powershell', {
      stdout: '{"DestinationPrefix":"10.0.0.0/8","InterfaceAlias":"VPN","NextHop":"0.0.0.0"}',
    })
    const table = openRouteTable(h)
    expect(routes(await table.listRoutes())).toEqual(['10.0.0.0/8 VPN'])
    const change = table.addRoute(parseCidr('10.96.0.0/16'), 'ktx')
    await change.apply()
    expect(h.commands.at(-1)).toBe(
      'netsh interface ipv4 add route prefix=10.96.0.0/16 interface=ktx store=active',
    )
    expect(change.undo).toMatchObject({
      argv: [
        'netsh',
        'interface',
        'ipv4',
        'delete',
        'route',
        'prefix=10.96.0.0/16',
        'interface=ktx',
        'store=active',
      ],
    })
  })
})

describe('openRouteTable', () => {
  it('refuses other platforms with KTX_PLATFORM_UNSUPPORTED', () => {
    expect(() => openRouteTable(new RecordingHost('aix'))).toThrow(
      expect.objectContaining({ code: 'KTX_PLATFORM_UNSUPPORTED' }),
    )
  })
})
