import { createHash, randomBytes } from 'node:crypto'

import { isKtxError, noopLogger } from '@ktx/core'
import { openPortForwardStream } from '@ktx/core/kube'
import { openSsh } from '@ktx/core/tunnel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { type AgentProcess, makeKey, startAgentProcess } from '../harness/agent-process.js'
import { startFakePortForward } from '../harness/fake-portforward.js'
import { closeServer, startEchoServer } from '../harness/servers.js'

let echo: Awaited<ReturnType<typeof startEchoServer>>
beforeAll(async () => {
  echo = await startEchoServer()
})
afterAll(async () => {
  await closeServer(echo.server)
})

describe('port-forward over the WebSocket channel protocol (fake API server)', () => {
  it('carries 16 MiB both ways intact with backpressure', async () => {
    const fake = await startFakePortForward({ kind: 'forward', targetPort: echo.port })
    try {
      const stream = await openPortForwardStream({
        url: fake.url(2222),
        port: 2222,
        timeoutMs: 5_000,
        target: 'pod ns/pod',
      })
      expect(fake.requests[0]?.headers['sec-websocket-protocol']).toBe('v4.channel.k8s.io')
      const data = randomBytes(16 * 1024 * 1024)
      const received = new Promise<string>((resolve, reject) => {
        const hash = createHash('sha256')
        let got = 0
        stream.on('data', (chunk: Buffer) => {
          hash.update(chunk)
          got += chunk.length
          if (got === data.length) resolve(hash.digest('hex'))
        })
        stream.once('error', reject)
      })
      for (let offset = 0; offset < data.length; offset += 64 * 1024) {
        if (!stream.write(data.subarray(offset, offset + 64 * 1024))) {
          await new Promise((resolve) => stream.once('drain', resolve))
        }
      }
      expect(await received).toBe(createHash('sha256').update(data).digest('hex'))
      await stream.close()
      expect(stream.destroyed || stream.writableEnded).toBe(true)
    } finally {
      await fake.close()
    }
  })

  it('surfaces an error-channel message as a port-forward error', async () => {
    const fake = await startFakePortForward({
      kind: 'error-channel',
      message: 'error forwarding port 2222 to pod abc: connection refused',
    })
    try {
      const error = await openPortForwardStream({
        url: fake.url(2222),
        port: 2222,
        timeoutMs: 5_000,
        target: 'pod ns/pod',
      }).then(
        async (stream) => {
          // The port prefix may arrive first; then the error comes on the open stream.
          return new Promise<unknown>((resolve) => {
            stream.once('error', resolve)
            stream.resume()
          })
        },
        (e: unknown) => e,
      )
      expect(isKtxError(error)).toBe(true)
      expect((error as Error).message).toContain('connection refused')
      expect(['KTX_PORT_FORWARD_FAILED', 'KTX_PORT_FORWARD_LOST']).toContain(isKtxError(error) && error.code)
    } finally {
      await fake.close()
    }
  })

  it('maps a 403 upgrade answer to a permission error naming pods/portforward', async () => {
    const fake = await startFakePortForward({
      kind: 'http-status',
      status: 403,
      message: 'pods "x" is forbidden',
    })
    try {
      const error = await openPortForwardStream({
        url: fake.url(2222),
        port: 2222,
        timeoutMs: 5_000,
        target: 'pod ns/pod',
      }).catch((e: unknown) => e)
      expect(isKtxError(error) && error.code).toBe('KTX_KUBE_FORBIDDEN')
      expect((error as Error).message).toContain('pods "x" is forbidden')
      expect((error as { resource?: string }).resource).toBe('pods/portforward')
    } finally {
      await fake.close()
    }
  })

  it('runs a real SSH session to the agent over the port-forward stream', async () => {
    const key = makeKey()
    let agent: AgentProcess | undefined
    const fake = { close: () => Promise.resolve() }
    try {
      agent = await startAgentProcess(key.publicKey)
      const server = await startFakePortForward({ kind: 'forward', targetPort: agent.sshPort })
      fake.close = server.close
      const stream = await openPortForwardStream({
        url: server.url(2222),
        port: 2222,
        timeoutMs: 5_000,
        target: 'pod ns/pod',
      })
      const ssh = await openSsh({
        sock: stream,
        username: 'ktx',
        privateKey: key.privateKey,
        readyTimeoutMs: 10_000,
        logger: noopLogger,
      })
      const channel = await ssh.dial('127.0.0.1', echo.port)
      const reply = await new Promise<string>((resolve) => {
        channel.once('data', (chunk: Buffer) => resolve(chunk.toString()))
        channel.write('over ws, ssh and the agent')
      })
      expect(reply).toBe('over ws, ssh and the agent')
      channel.end()
      await ssh.close()
    } finally {
      await fake.close()
      await agent?.stop()
    }
  })
})
