import { type Duplex, duplexPair } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { type RouterReply, type RouterRequest, encodeRouterLine, parseRouterRequest } from '../contract.js'
import { isKtxError } from '../errors.js'
import { openRouterControl } from './router-control.js'

const route = { session: 's1', header: 'version', value: 'x', targets: { '80': '127.0.0.1:3001' } }

/** The router's side of the pair: answers each request line with `answer(request)` (or a raw line). */
function fakeRouter(
  peer: Duplex,
  answer: (request: RouterRequest) => RouterReply | string | undefined,
): RouterRequest[] {
  const seen: RouterRequest[] = []
  let buffered = ''
  peer.setEncoding('utf8')
  peer.on('data', (chunk: string) => {
    buffered += chunk
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const parsed = parseRouterRequest(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
      if (!parsed.ok) throw new Error(parsed.message)
      seen.push(parsed.request)
      const reply = answer(parsed.request)
      if (reply !== undefined) peer.write(typeof reply === 'string' ? reply : encodeRouterLine(reply))
    }
  })
  peer.on('end', () => peer.end())
  return seen
}

describe('openRouterControl', () => {
  it('sends each request as one line and reads the replies in order', async () => {
    const [local, peer] = duplexPair()
    const seen = fakeRouter(peer, (request) =>
      request.op === 'list' ? { ok: true, routes: [route] } : { ok: true },
    )
    const control = openRouterControl(local)
    await Promise.all([control.ping(), control.add(route), control.remove('s1')])
    expect(await control.list()).toEqual([route])
    expect(seen.map((request) => request.op)).toEqual(['ping', 'add', 'remove', 'list'])
    expect(seen[1]).toEqual({ op: 'add', ...route })
    await control.close()
    expect(await control.ended).toBeUndefined()
  })

  it('removes the routes it added before it closes', async () => {
    const [local, peer] = duplexPair()
    const seen = fakeRouter(peer, () => ({ ok: true }))
    const control = openRouterControl(local)
    await control.add(route)
    await control.add({ ...route, value: 'y' })
    await control.add({ ...route, session: 's2' })
    await control.remove('s2')
    await control.close()
    expect(seen.slice(4)).toEqual([{ op: 'remove', session: 's1' }])
    expect(await control.ended).toBeUndefined()
  })

  it('turns mark-taken into a conflict naming the owner', async () => {
    const [local, peer] = duplexPair()
    fakeRouter(peer, () => ({ ok: false, code: 'mark-taken', message: 'taken', session: 'bob' }))
    const control = openRouterControl(local)
    const error: unknown = await control.add(route).catch((caught: unknown) => caught)
    expect(isKtxError(error) && error.code).toBe('KTX_MESH_MARK_TAKEN')
    expect(isKtxError(error) && error.category).toBe('conflict')
    expect(isKtxError(error) && error.data.owner).toBe('bob')
    expect((error as Error).message).toMatch(/version: x is already in use by mesh session bob/)
    // A refused request leaves the connection usable.
    expect(local.destroyed).toBe(false)
    await control.close()
  })

  it('reports other refusals with the router’s reason', async () => {
    const [local, peer] = duplexPair()
    fakeRouter(peer, () => ({
      ok: false,
      code: 'unknown-port',
      message: 'the router does not listen on port 81',
    }))
    const control = openRouterControl(local)
    await expect(control.add({ ...route, targets: { '81': 'a:1' } })).rejects.toMatchObject({
      code: 'KTX_ROUTER_REFUSED',
      message: expect.stringMatching(/port 81/) as string,
    })
    await control.close()
  })

  it('fails every waiting request and settles ended with the error when the router goes away', async () => {
    const [local, peer] = duplexPair()
    fakeRouter(peer, () => undefined)
    const control = openRouterControl(local)
    const waiting = [control.ping(), control.list()]
    peer.end()
    for (const request of waiting)
      await expect(request).rejects.toMatchObject({ code: 'KTX_ROUTER_CONTROL_LOST' })
    expect(await control.ended).toMatchObject({ code: 'KTX_ROUTER_CONTROL_LOST' })
    await expect(control.ping()).rejects.toMatchObject({ code: 'KTX_ROUTER_CONTROL_LOST' })
  })

  it('gives up on a peer that does not speak the protocol', async () => {
    const [local, peer] = duplexPair()
    fakeRouter(peer, () => 'SSH-2.0-OpenSSH_9.6\n')
    const control = openRouterControl(local)
    await expect(control.ping()).rejects.toMatchObject({
      code: 'KTX_ROUTER_CONTROL_LOST',
      message: expect.stringMatching(/not a reply: SSH-2.0/) as string,
    })
  })

  it('times out a request the router never answers', async () => {
    const [local, peer] = duplexPair()
    fakeRouter(peer, () => undefined)
    const control = openRouterControl(local, { requestTimeoutMs: 50 })
    await expect(control.ping()).rejects.toMatchObject({ code: 'KTX_TIMEOUT', timeoutMs: 50 })
    expect(await control.ended).toMatchObject({ code: 'KTX_TIMEOUT' })
  })
})
