import { describe, expect, it } from 'vitest'

import type { ProcessExit, ProcessHandle } from '../../exec/run.js'
import { noopLogger } from '../../logger.js'
import { RecordingHost } from '../../testing/recording-host.js'
import { openRouteTable } from '../routes/index.js'
import { findTun2socks, installSuggestions, isSupported } from './binary.js'
import { startTun2socks, tun2socksArgv } from './tun2socks.js'

describe('findTun2socks', () => {
  it('uses the explicit path and reads its version', async () => {
    const host = new RecordingHost().on('/opt/t2s -version', {
      stdout: 'tun2socks-2.6.0\nlinux/amd64, go1.26.8, \n',
    })
    expect(await findTun2socks(host, { explicit: '/opt/t2s', stateDir: '/home/u/.ktx' })).toEqual({
      path: '/opt/t2s',
      version: '2.6.0',
    })
    expect(host.commands).toEqual(['/opt/t2s -version'])
  })

  it('looks on PATH, then in ~/.ktx/bin', async () => {
    const host = new RecordingHost()
    host.onPath.set('tun2socks', '/usr/local/bin/tun2socks')
    host
      .on('/usr/local/bin/tun2socks', { exitCode: 126, stderr: 'cannot execute' })
      .on('/home/u/.ktx/bin/tun2socks -version', { stdout: 'tun2socks-2.6.0' })
    const found = await findTun2socks(host, { stateDir: '/home/u/.ktx' })
    expect(found.path).toBe('/home/u/.ktx/bin/tun2socks')
    expect(host.commands).toEqual([
      '/usr/local/bin/tun2socks -version',
      '/home/u/.ktx/bin/tun2socks -version',
    ])
  })

  it('says where it looked and exactly how to get it when it is missing', async () => {
    const host = new RecordingHost().on('/home/u/.ktx/bin/tun2socks', { notFound: true })
    const error = await findTun2socks(host, { stateDir: '/home/u/.ktx' }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'KTX_TUN2SOCKS_NOT_FOUND',
      category: 'host',
      message:
        'tun2socks (xjasonlyu/tun2socks v2.6.0) is needed for TUN mode and was not found; looked at: tun2socks on PATH (not found), /home/u/.ktx/bin/tun2socks (not found)',
      suggestions: installSuggestions('/home/u/.ktx'),
    })
    expect(installSuggestions('/home/u/.ktx')[0]).toBe(
      'Install the pinned build: GOBIN=/home/u/.ktx/bin go install github.com/xjasonlyu/tun2socks/v2@v2.6.0',
    )
  })

  it('refuses, without running it, a binary it found that another user could replace', async () => {
    const host = new RecordingHost()
    host.onPath.set('tun2socks', '/home/u/bin/tun2socks')
    host.untrusted.set('/home/u/bin/tun2socks', '/home/u/bin is owned by uid 1000, not by root')
    host.on('/home/u/bin/tun2socks -version', { stdout: 'tun2socks-2.6.0' })
    const error = await findTun2socks(host, { stateDir: '/var/lib/ktx' }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'KTX_TUN2SOCKS_UNTRUSTED',
      category: 'host',
      message:
        'Refusing to run /home/u/bin/tun2socks: /home/u/bin is owned by uid 1000, not by root, so another user could replace what ktx runs as root',
    })
    expect((error as { suggestions: string[] }).suggestions.join('\n')).toContain('--tun2socks <path>')
    expect(host.commands).toEqual([])
  })

  it('runs an explicit path as given, trusted or not', async () => {
    const host = new RecordingHost().on('/home/u/t2s -version', { stdout: 'tun2socks-2.6.0' })
    host.untrusted.set('/home/u/t2s', 'owned by uid 1000')
    expect((await findTun2socks(host, { explicit: '/home/u/t2s', stateDir: '/s' })).path).toBe('/home/u/t2s')
  })

  it('does not fall back when the explicit path fails', async () => {
    const host = new RecordingHost().on('/nope -version', { exitCode: 1, stderr: 'exec format error' })
    await expect(findTun2socks(host, { explicit: '/nope', stateDir: '/s' })).rejects.toMatchObject({
      code: 'KTX_TUN2SOCKS_NOT_FOUND',
    })
    expect(host.commands).toEqual(['/nope -version'])
  })

  it('rejects a binary that is not tun2socks v2 ≥ 2.5', async () => {
    const old = new RecordingHost().on('/t -version', { stdout: 'tun2socks-2.4.1' })
    await expect(findTun2socks(old, { explicit: '/t', stateDir: '/s' })).rejects.toMatchObject({
      code: 'KTX_TUN2SOCKS_VERSION',
      message: '/t is tun2socks 2.4.1; ktx needs tun2socks v2 (2.5.0 or later, tested with 2.6.0)',
    })
    const other = new RecordingHost().on('/t -version', { stdout: 'something else 1.0' })
    await expect(findTun2socks(other, { explicit: '/t', stateDir: '/s' })).rejects.toMatchObject({
      code: 'KTX_TUN2SOCKS_VERSION',
      message: '/t is not tun2socks v2; ktx needs tun2socks v2 (2.5.0 or later, tested with 2.6.0)',
    })
  })

  it.each([
    ['2.6.0', true],
    ['2.5.0', true],
    ['2.10.1', true],
    ['2.4.9', false],
    ['3.0.0', false],
    ['1.18.0', false],
  ])('version %s supported: %s', (version, expected) => {
    expect(isSupported(version)).toBe(expected)
  })
})

/** A fake child process whose exit the test controls. */
function fakeChild(stderr = ''): ProcessHandle & { exit(e: ProcessExit): void; argv?: readonly string[] } {
  let exit: (e: ProcessExit) => void = () => undefined
  const exited = new Promise<ProcessExit>((resolve) => (exit = resolve))
  return {
    pid: 4321,
    command: 'tun2socks',
    args: [],
    exited,
    stderrTail: () => stderr,
    stop: () => {
      exit({ code: undefined, signal: 'SIGTERM' })
      return exited
    },
    exit,
  }
}

describe('startTun2socks', () => {
  const binary = { path: '/bin/tun2socks', version: '2.6.0' }

  it('runs the pinned argv and resolves once the device has carrier', async () => {
    let polls = 0
    const host = new RecordingHost().on('ip -j link show dev ktx0', () => {
      polls += 1
      const flags = polls < 3 ? '"NO-CARRIER","UP"' : '"UP","LOWER_UP"'
      return { stdout: `[{"ifname":"ktx0","flags":[${flags}]}]` }
    })
    const child = fakeChild()
    let started: string[] = []
    const t2s = await startTun2socks({
      binary,
      device: 'ktx0',
      proxy: { host: '127.0.0.1', port: 41234 },
      routeTable: openRouteTable(host),
      logger: noopLogger,
      readyTimeoutMs: 5_000,
      start: (command, args) => {
        started = [command, ...args]
        return Promise.resolve(child)
      },
    })
    expect(started).toEqual([
      '/bin/tun2socks',
      '-device',
      'tun://ktx0',
      '-proxy',
      'socks5://127.0.0.1:41234',
      '-mtu',
      '9000',
      '-loglevel',
      'warn',
    ])
    expect(t2s.argv).toEqual(started)
    expect(polls).toBe(3)
    await t2s.stop()
  })

  it('reports tun2socks dying before it attached, with its own message', async () => {
    const host = new RecordingHost().on('ip -j link show dev ktx0', {
      stdout: '[{"ifname":"ktx0","flags":["NO-CARRIER","UP"]}]',
    })
    const child = fakeChild(
      '{"level":"fatal","ts":1.0,"caller":"engine/engine.go:45","msg":"[ENGINE] failed to start: create tun: device or resource busy"}',
    )
    child.exit({ code: 1, signal: undefined })
    await expect(
      startTun2socks({
        binary,
        device: 'ktx0',
        proxy: { host: '127.0.0.1', port: 1 },
        routeTable: openRouteTable(host),
        logger: noopLogger,
        readyTimeoutMs: 5_000,
        start: () => Promise.resolve(child),
      }),
    ).rejects.toMatchObject({
      code: 'KTX_TUN2SOCKS_EXITED',
      message:
        'tun2socks exited with code 1 before it attached to ktx0: [ENGINE] failed to start: create tun: device or resource busy',
    })
  })

  it('times out naming the option when the device never gets carrier, and stops the process', async () => {
    const host = new RecordingHost().on('ip -j link show dev ktx0', {
      stdout: '[{"ifname":"ktx0","flags":["NO-CARRIER","UP"]}]',
    })
    const child = fakeChild()
    await expect(
      startTun2socks({
        binary,
        device: 'ktx0',
        proxy: { host: '::1', port: 1 },
        routeTable: openRouteTable(host),
        logger: noopLogger,
        readyTimeoutMs: 100,
        start: () => Promise.resolve(child),
      }),
    ).rejects.toMatchObject({ code: 'KTX_TUN_NOT_READY', option: 'timeouts.tunReadyMs' })
    expect(await child.exited).toEqual({ code: undefined, signal: 'SIGTERM' })
  })

  it('brackets IPv6 proxy hosts', () => {
    expect(tun2socksArgv('t', 'ktx0', { host: '::1', port: 9 })[4]).toBe('socks5://[::1]:9')
  })
})
