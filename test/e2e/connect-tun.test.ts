/**
 * `ktx connect` in TUN mode (the default) against the real test cluster, run as root inside the
 * laptop network namespace, whose /etc/resolv.conf is the laptop's own (a bind mount) and whose
 * upstream DNS knows only `*.public.test`.
 *
 * First the negative control (the laptop cannot reach the workload); then plain programs (curl,
 * dig, nslookup) reach Services by name, ClusterIP and Pod IP with no proxy settings. After
 * Ctrl-C, and after `kill -9` followed by `ktx clean`, the namespace's addresses, routes, links
 * and resolv.conf are byte for byte as before and nothing of ktx is left in the cluster. The
 * refusals (no root, no tun2socks, device name taken) change nothing at all.
 */
import { execFile } from 'node:child_process'
import { chownSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import {
  type ClusterEnv,
  type WebWorkload,
  curlFromLaptop,
  deployWeb,
  inLaptop,
  kubectl,
} from '../harness/cluster.js'
import { KTX_BIN, type ProcessResult, spawnInLaptop } from '../harness/ktx.js'
import { suiteFixture } from '../harness/suite.js'

const suite = suiteFixture({
  namespace: 'tun',
  shadowImage: true,
  negativeControl: {
    unreachable: () => [
      `http://${web.podIPs[0]}:8080/`,
      `http://${web.clusterIP}/`,
      `http://web.${suite.namespace}/`,
    ],
    unresolvable: () => [`db.${suite.namespace}.svc.cluster.local`],
  },
})
const env: ClusterEnv = suite.env
const libraryHostsScript = fileURLToPath(new URL('./fixtures/library-tun-hosts.mjs', import.meta.url))
let web: WebWorkload
let db: WebWorkload
let before: string

/** The laptop's network state as text: addresses, routes (both families), links, resolv.conf bytes. */
async function laptopState(): Promise<string> {
  const parts: string[] = []
  for (const args of [
    ['ip', '-o', 'addr'],
    ['ip', 'route', 'show', 'table', 'all'],
    ['ip', '-6', 'route', 'show', 'table', 'all'],
    ['ip', '-o', 'link'],
    ['cat', '/etc/resolv.conf'],
  ]) {
    const result = await inLaptop(env, args[0]!, args.slice(1))
    expect(result.code, args.join(' ')).toBe(0)
    parts.push(`$ ${args.join(' ')}\n${result.stdout}`)
  }
  return parts.join('\n')
}

interface RunningKtx {
  readonly exited: Promise<ProcessResult>
  readonly connected: Promise<string>
  kill(signal: NodeJS.Signals): void
  output(): { stdout: string; stderr: string }
}

/** `ktx <args>` as root in the laptop namespace, with its own HOME (journal, logs). */
function startKtx(args: readonly string[], home: string, extraEnv: NodeJS.ProcessEnv = {}): RunningKtx {
  const child = spawnInLaptop(env, KTX_BIN, args, { HOME: home, KTX_TUN2SOCKS: env.TUN2SOCKS, ...extraEnv })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const connected = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (/^Connected \(tun mode\)/m.test(stdout) && stdout.includes('Press Ctrl+C')) resolve(stdout)
    })
    void exited.then((r) =>
      reject(new Error(`ktx exited (${String(r.code)}) before connecting:\n${r.stderr}`)),
    )
  })
  connected.catch(() => undefined)
  return { exited, connected, kill: (signal) => child.kill(signal), output: () => ({ stdout, stderr }) }
}

/** Runs `ktx <args>` in the laptop namespace to completion. */
async function runKtx(
  args: readonly string[],
  home: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ProcessResult> {
  const running = startKtx(args, home, extraEnv)
  const timer = setTimeout(() => running.kill('SIGKILL'), 150_000)
  try {
    return await running.exited
  } finally {
    clearTimeout(timer)
  }
}

function connectArgs(...extra: string[]): string[] {
  return ['connect', '-n', suite.namespace, '--image', env.SHADOW_IMAGE, ...extra]
}

const homes: string[] = []

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'ktx-tun-home-'))
  homes.push(home)
  return home
}

async function curlBody(url: string): Promise<string> {
  const result = await curlFromLaptop(env, url, ['--max-time', '5'])
  expect(result.stderr, url).toBe('')
  return result.stdout.trim()
}

async function tun2socksRunning(): Promise<string> {
  const result = await inLaptop(env, 'pgrep', ['-a', 'tun2socks'])
  return result.stdout.trim()
}

beforeAll(async () => {
  ;[web, db] = await Promise.all([
    deployWeb(env, suite.namespace, 'web', { replicas: 3, body: `tun e2e page ${suite.namespace}` }),
    deployWeb(env, suite.namespace, 'db', { replicas: 2, headless: true, body: 'db' }),
  ])
  expect(web.podIPs).toHaveLength(3)
  before = await laptopState()
  expect(await tun2socksRunning()).toBe('')
})

afterAll(async () => {
  // A failed test may have left a session behind; the next suites need a clean laptop.
  for (const home of homes) await runKtx(['clean', '-n', suite.namespace], home)
  await inLaptop(env, 'ip', ['link', 'delete', 'ktxbusy'])
})

describe('ktx connect (tun mode)', () => {
  it('--dryRun prints the plan from the ServiceCIDR API and node podCIDRs and changes nothing', async () => {
    const result = await runKtx(
      ['connect', '-n', suite.namespace, '--dryRun', '--excludeIps', web.podIPs[0]!],
      newHome(),
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`${env.CLUSTER_SERVICE_CIDR.padEnd(22)}service-cidr-api`)
    expect(result.stdout).toMatch(/node-pod-cidrs/)
    expect(result.stdout).toContain(`${`${web.podIPs[0]!}/32`.padEnd(22)}exclude`)
    expect(result.stdout).toContain(`Cluster DNS: ${env.CLUSTER_DNS_IP}`)
    expect(await laptopState()).toBe(before)
    await suite.expectNoLeftovers()
  })

  it('reaches svc, svc.ns, the FQDN, a ClusterIP and a Pod IP; resolves a headless Service to its pods; Ctrl-C restores everything', async () => {
    const home = newHome()
    const ktx = startKtx(connectArgs('--debug'), home)
    try {
      const stdout = await ktx.connected
      expect(stdout).toContain(`Probes:   TCP `)
      expect(stdout).toContain(`DNS kubernetes.default.svc.cluster.local → `)

      for (const url of [
        'http://web/',
        `http://web.${suite.namespace}/`,
        `http://web.${suite.namespace}.svc/`,
        `http://web.${suite.namespace}.svc.cluster.local/`,
        `http://${web.clusterIP}/`,
        `http://${web.podIPs[0]}:8080/`,
      ]) {
        expect(await curlBody(url), url).toBe(web.body)
      }

      const headless = `db.${suite.namespace}.svc.cluster.local`
      const dig = await inLaptop(env, 'dig', ['+short', '+time=3', headless])
      expect(dig.stdout.trim().split('\n').sort()).toEqual([...db.podIPs].sort())
      const nslookup = await inLaptop(env, 'nslookup', [`db.${suite.namespace}`])
      for (const ip of db.podIPs) expect(nslookup.stdout).toContain(`Address: ${ip}`)

      // A public name: answered by the laptop's own upstream, which is asked first and only.
      const direct = await inLaptop(env, 'dig', [
        '+time=2',
        '+tries=1',
        `@${env.LAPTOP_UPSTREAM_DNS}`,
        'x.public.test',
      ])
      const viaKtx = await inLaptop(env, 'dig', ['+time=2', '+tries=1', 'x.public.test'])
      expect(answerOf(viaKtx.stdout)).toEqual(['203.0.113.10'])
      expect(queryMs(viaKtx.stdout)).toBeLessThan(queryMs(direct.stdout) + 50)
      const lookups = ktx
        .output()
        .stderr.split('\n')
        .filter((line) => line.includes('"name":"x.public.test"'))
      expect(lookups.length).toBeGreaterThan(0)
      expect(lookups.every((line) => line.includes('"target":"upstream"'))).toBe(true)

      // While connected, the laptop namespace holds ktx's device and resolver.
      expect(await laptopState()).not.toBe(before)
    } finally {
      ktx.kill('SIGINT')
    }
    const result = await ktx.exited
    expect(result.stderr).toContain('Disconnected; everything ktx created was removed.')
    expect(result.code).toBe(0)
    expect(await laptopState()).toBe(before)
    expect(await tun2socksRunning()).toBe('')
    await suite.expectNoLeftovers()
  })

  it('--excludeIps with one Pod IP makes exactly that pod unreachable; its neighbours stay reachable', async () => {
    const [excluded, ...neighbours] = web.podIPs
    const ktx = startKtx(connectArgs('--excludeIps', excluded!), newHome())
    try {
      const stdout = await ktx.connected
      expect(stdout).toContain(`Excluded: ${excluded!}/32 (exclude)`)
      const blocked = await curlFromLaptop(env, `http://${excluded!}:8080/`)
      expect(blocked.code).not.toBe(0)
      expect(blocked.stdout).toBe('')
      for (const ip of neighbours) expect(await curlBody(`http://${ip}:8080/`), ip).toBe(web.body)
      const route = await inLaptop(env, 'ip', ['route', 'get', excluded!])
      expect(route.stdout).not.toContain('dev ktx0')
    } finally {
      ktx.kill('SIGINT')
    }
    expect((await ktx.exited).code).toBe(0)
    expect(await laptopState()).toBe(before)
  })

  it('ends with a clear error and restores everything when tun2socks dies under it', async () => {
    const ktx = startKtx(connectArgs(), newHome())
    await ktx.connected
    const pid = /^(\d+) /.exec(await tun2socksRunning())?.[1]
    expect(pid).toBeDefined()
    await inLaptop(env, 'kill', ['-KILL', pid!])
    const result = await ktx.exited
    expect(result.stderr).toContain('Error (KTX_TUN2SOCKS_EXITED): tun2socks was killed by SIGKILL')
    expect(result.code).toBe(7)
    expect(await laptopState()).toBe(before)
    await suite.expectNoLeftovers()
  })

  it('after kill -9, `ktx clean` replays the journal: tun2socks, routes, device and resolv.conf go, and the cluster objects too', async () => {
    const home = newHome()
    const ktx = startKtx(connectArgs(), home)
    await ktx.connected
    ktx.kill('SIGKILL')
    expect((await ktx.exited).signal).toBe('SIGKILL')
    // What a crash leaves: tun2socks still running, the device, routes and resolver in place.
    expect(await tun2socksRunning()).toContain('tun://ktx0')
    expect(await laptopState()).not.toBe(before)
    expect(await suite.leftovers()).not.toEqual([])

    const clean = await runKtx(['clean', '-n', suite.namespace], home)
    expect(clean.stderr).not.toMatch(/Error/)
    expect(clean.code).toBe(0)
    expect(await laptopState()).toBe(before)
    expect(await tun2socksRunning()).toBe('')
    await suite.expectNoLeftovers()

    // A second clean finds nothing left to do.
    const again = await runKtx(['clean', '-n', suite.namespace], home)
    expect(again.code).toBe(0)
    expect(await laptopState()).toBe(before)
  })
})

describe('connect() as a library, hosts mode', () => {
  it('writes a marked hosts block, keeps it current as Services come and go, and removes it', async () => {
    const hostsFile = join(newHome(), 'hosts')
    const original = '127.0.0.1 localhost\n# a comment that must survive\n::1 localhost\n'
    writeFileSync(hostsFile, original)
    const child = spawnInLaptop(
      env,
      libraryHostsScript,
      [suite.namespace, env.SHADOW_IMAGE, env.TUN2SOCKS, hostsFile],
      {
        HOME: newHome(),
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    try {
      await vi.waitFor(() => expect(stdout).toContain('"ready"'), { timeout: 120_000, interval: 200 })
      const ready = JSON.parse(stdout.split('\n')[0]!) as { tun: { device: string; dns: { mode: string } } }
      expect(ready.tun).toMatchObject({ device: 'ktxlib0', dns: { mode: 'hosts', hostsFile } })
      const block = readFileSync(hostsFile, 'utf8')
      expect(block.startsWith(original)).toBe(true)
      expect(block).toContain(
        `${web.clusterIP} web web.${suite.namespace} web.${suite.namespace}.svc web.${suite.namespace}.svc.cluster.local\n`,
      )
      expect(db.podIPs).toContain(/^(\S+) db db\./m.exec(block)?.[1])

      await kubectl(env, ['-n', suite.namespace, 'create', 'service', 'clusterip', 'extra', '--tcp=80:8080'])
      const extraIP = (
        await kubectl(env, [
          '-n',
          suite.namespace,
          'get',
          'service',
          'extra',
          '-o',
          'jsonpath={.spec.clusterIP}',
        ])
      ).trim()
      await vi.waitFor(
        () => expect(readFileSync(hostsFile, 'utf8')).toContain(`${extraIP} extra extra.${suite.namespace} `),
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      await kubectl(env, ['-n', suite.namespace, 'delete', 'service', 'extra'])
      await vi.waitFor(
        () => expect(readFileSync(hostsFile, 'utf8')).not.toContain(`extra.${suite.namespace}`),
        {
          timeout: 30_000,
          interval: 200,
        },
      )
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(stderr).toBe('')
    expect(stdout).toContain('"closed"')
    expect(readFileSync(hostsFile, 'utf8')).toBe(original)
    expect(await laptopState()).toBe(before)
    await suite.expectNoLeftovers()
  })
})

describe('refusals change nothing', () => {
  it('without root: a clear error naming root and socks mode (exit 4)', async () => {
    // The user's own home and a kubeconfig it can read, as a real non-root user would have: the
    // refusal must be about root, not about files root made.
    const nobody = 65534
    const home = newHome()
    const kubeconfig = join(home, 'kubeconfig')
    copyFileSync(env.KUBECONFIG_LAPTOP, kubeconfig)
    chownSync(kubeconfig, nobody, nobody)
    chownSync(home, nobody, nobody)
    const result = await new Promise<ProcessResult>((resolve) => {
      execFile(
        'ip',
        [
          'netns',
          'exec',
          env.LAPTOP_NETNS,
          'setpriv',
          `--reuid=${String(nobody)}`,
          `--regid=${String(nobody)}`,
          '--clear-groups',
          process.execPath,
          KTX_BIN,
          ...connectArgs(),
        ],
        {
          env: {
            ...process.env,
            HOME: home,
            KUBECONFIG: kubeconfig,
            KTX_TUN2SOCKS: env.TUN2SOCKS,
          },
        },
        (error, stdout, stderr) => {
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
            signal: null,
            stdout,
            stderr,
          })
        },
      )
    })
    expect(result.stderr).toContain('Error (KTX_TUN_REQUIRES_ELEVATION): TUN mode needs root')
    expect(result.stderr).toContain('--mode socks')
    expect(result.stderr).not.toContain('EACCES')
    expect(result.code).toBe(4)
    expect(await laptopState()).toBe(before)
    await suite.expectNoLeftovers()
  })

  it('without tun2socks: says how to install it (exit 8)', async () => {
    const home = newHome()
    const result = await runKtx(connectArgs(), home, {
      KTX_TUN2SOCKS: '',
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    })
    expect(result.stderr).toContain(
      'Error (KTX_TUN2SOCKS_NOT_FOUND): tun2socks (xjasonlyu/tun2socks v2.6.0) is needed',
    )
    // As root, ktx's own place for it is root's state directory, not the (maybe someone else's) HOME.
    expect(result.stderr).toContain(
      'GOBIN=/var/lib/ktx/bin go install github.com/xjasonlyu/tun2socks/v2@v2.6.0',
    )
    expect(result.stderr).toContain('KTX_TUN2SOCKS=/path/to/tun2socks')
    expect(result.code).toBe(8)
    expect(await laptopState()).toBe(before)
    await suite.expectNoLeftovers()
  })

  it('with the TUN name taken: names the device and the way out (exit 8)', async () => {
    const add = await inLaptop(env, 'ip', ['tuntap', 'add', 'dev', 'ktxbusy', 'mode', 'tun'])
    expect(add.code).toBe(0)
    const taken = await laptopState()
    try {
      const result = await runKtx(connectArgs('--tunName', 'ktxbusy'), newHome())
      expect(result.stderr).toContain(
        'Error (KTX_TUN_NAME_TAKEN): A network device named "ktxbusy" exists already',
      )
      expect(result.stderr).toContain('--tunName')
      expect(result.code).toBe(8)
      expect(await laptopState()).toBe(taken)
      await suite.expectNoLeftovers()
    } finally {
      await inLaptop(env, 'ip', ['link', 'delete', 'ktxbusy'])
    }
    expect(await laptopState()).toBe(before)
  })
})

function answerOf(digOutput: string): string[] {
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(digOutput)?.[1] ?? ''
  return section
    .split('\n')
    .map((line) => line.trim().split(/\s+/).at(-1) ?? '')
    .filter(Boolean)
}

function queryMs(digOutput: string): number {
  const ms = /;; Query time: (\d+) msec/.exec(digOutput)?.[1]
  expect(ms, digOutput).toBeDefined()
  return Number(ms)
}
