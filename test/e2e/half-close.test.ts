/**
 * Half-close through the real cluster, both ways: a client that sends its request, shuts down its
 * write side and then reads an 8 MiB reply gets every byte
 * - from the laptop through `ktx connect`'s SOCKS5 proxy to a server in a pod,
 * - from the laptop through `ktx connect --mode tun` (TUN device → tun2socks → SOCKS5) to it, and
 * - from a pod through a Service `ktx exchange` sent to a server on the laptop.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { inLaptop, kubectl, run } from '../harness/cluster.js'
import {
  deployExchangeFixture,
  expectLaptopUnreachableFromCluster,
  freeLaptopPort,
  startKtxExchange,
} from '../harness/exchange.js'
import {
  type HalfCloseResult,
  expectedReply,
  halfCloseClientScript,
  halfCloseServerScript,
} from '../harness/half-close.js'
import { startKtxConnect } from '../harness/ktx.js'
import { startTunConnect } from '../harness/tun.js'
import { suiteFixture } from '../harness/suite.js'

const SIZE = 8 << 20
const POD_PORT = 7000
const suite = suiteFixture({ namespace: 'half-close', shadowImage: true })
const { env } = suite
const servers: ChildProcess[] = []
let podIP: string
let laptopPort: number

// Starts a server script with `command` and resolves once it printed `listening`.
function startServer(command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  servers.push(child)
  return new Promise((resolve, reject) => {
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`server exited (${String(code)}): ${err}`)))
  })
}

function parse(result: { code: number; stdout: string; stderr: string }): HalfCloseResult {
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as HalfCloseResult
}

beforeAll(async () => {
  await deployExchangeFixture(env, suite.namespace)
  podIP = (
    await kubectl(env, ['-n', suite.namespace, 'get', 'pod', 'nodeclient', '-o', 'jsonpath={.status.podIP}'])
  ).trim()
  laptopPort = await freeLaptopPort(env)
  const kubectlExec = ['--kubeconfig', env.KUBECONFIG_HOST, '-n', suite.namespace, 'exec', 'nodeclient', '--']
  await Promise.all([
    startServer(env.KUBECTL, [
      ...kubectlExec,
      '/usr/local/bin/node',
      '-e',
      halfCloseServerScript(POD_PORT, SIZE),
    ]),
    startServer('ip', [
      'netns',
      'exec',
      env.LAPTOP_NETNS,
      process.execPath,
      '-e',
      halfCloseServerScript(laptopPort, SIZE),
    ]),
  ])
})

afterAll(() => {
  for (const child of servers) child.kill('SIGKILL')
})

describe('negative control: without ktx', () => {
  it("the laptop cannot reach the pod's server, and the pod cannot reach the laptop's", async () => {
    const direct = await inLaptop(
      env,
      process.execPath,
      ['-e', halfCloseClientScript(podIP, POD_PORT, 'x')],
      {
        timeoutMs: 8_000,
      },
    )
    expect(direct.code).not.toBe(0)
    expect(direct.stdout).toBe('')
    await expectLaptopUnreachableFromCluster(env, suite.namespace, laptopPort)
  })
})

describe('send, shut down the write side, read 8 MiB', () => {
  it('laptop → SOCKS5 (ktx connect) → a server in a pod', async () => {
    const ktx = startKtxConnect(env, ['-n', suite.namespace, '-i', env.SHADOW_IMAGE])
    try {
      const { socksPort } = await ktx.ready
      const request = 'GET through socks'
      const started = Date.now()
      const result = parse(
        await inLaptop(
          env,
          process.execPath,
          ['-e', halfCloseClientScript(podIP, POD_PORT, request, socksPort)],
          {
            timeoutMs: 60_000,
          },
        ),
      )
      console.log(
        `socks5: ${String(SIZE >> 20)} MiB after a half-close in ${String(Date.now() - started)} ms`,
      )
      expect(result).toEqual(expectedReply(request, SIZE))
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
    }
    await suite.expectNoLeftovers()
  })

  it('laptop → TUN (ktx connect --mode tun) → a server in a pod', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ktx-half-close-'))
    const ktx = startTunConnect(
      env,
      [
        'connect',
        '-n',
        suite.namespace,
        '-i',
        env.SHADOW_IMAGE,
        '--tunName',
        `ktxhc${randomBytes(2).toString('hex')}`,
        '--dnsMode',
        'none',
        '--tun2socks',
        env.TUN2SOCKS,
      ],
      home,
    )
    try {
      await ktx.ready
      const request = 'GET through the TUN device'
      const started = Date.now()
      const result = parse(
        await inLaptop(env, process.execPath, ['-e', halfCloseClientScript(podIP, POD_PORT, request)], {
          timeoutMs: 60_000,
        }),
      )
      console.log(`tun: ${String(SIZE >> 20)} MiB after a half-close in ${String(Date.now() - started)} ms`)
      expect(result).toEqual(expectedReply(request, SIZE))
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
      rmSync(home, { recursive: true, force: true })
    }
    expect((await ktx.exited).code).toBe(0)
    await suite.expectNoLeftovers()
  })

  it('a pod → the exchanged Service (ktx exchange) → a server on the laptop', async () => {
    const ktx = startKtxExchange(env, [
      'web',
      '-n',
      suite.namespace,
      '--expose',
      `${String(laptopPort)}:8080`,
      '-i',
      env.SHADOW_IMAGE,
    ])
    try {
      await ktx.ready
      const request = 'GET through the exchanged Service'
      const started = Date.now()
      const result = parse(
        await run(
          env.KUBECTL,
          [
            '--kubeconfig',
            env.KUBECONFIG_HOST,
            '-n',
            suite.namespace,
            'exec',
            'nodeclient',
            '--',
            '/usr/local/bin/node',
            '-e',
            halfCloseClientScript('web', 80, request),
          ],
          { timeoutMs: 60_000 },
        ),
      )
      console.log(
        `reverse: ${String(SIZE >> 20)} MiB after a half-close in ${String(Date.now() - started)} ms`,
      )
      expect(result).toEqual(expectedReply(request, SIZE))
    } finally {
      ktx.child.kill('SIGINT')
      await ktx.exited
    }
    await suite.expectNoLeftovers()
  })
})
