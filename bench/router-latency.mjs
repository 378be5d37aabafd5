// Request latency on loopback: straight to an upstream vs through the mesh router (the bundled agent
// in router mode, its own process), for HTTP/1.1 on one keep-alive connection, HTTP/1.1 on a new
// connection per request, and HTTP/2 streams on one h2c connection. Through the router each path is
// measured twice: with the route's header (routed to the "dev" upstream) and without (the fallback).
//
//   npm run build && node bench/router-latency.mjs [rounds]
//
// Prints one JSON object: per path p50/p90/p99 in ms, and the router's added p50.
import { spawn } from 'node:child_process'
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

import { encodeRouterPorts } from '@ktx/core/contract'
import { generateSessionKey, openRouterControl } from '@ktx/core/tunnel'

const rounds = Number(process.argv[2] ?? 2000)
const warmup = 200
const bundle = fileURLToPath(new URL('../packages/shadow-image/dist/agent.mjs', import.meta.url))

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
}

async function freePort() {
  const server = net.createServer()
  const port = await listen(server)
  await new Promise((resolve) => server.close(resolve))
  return port
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function measure(once) {
  for (let i = 0; i < warmup; i++) await once()
  const latencies = []
  for (let i = 0; i < rounds; i++) {
    const start = performance.now()
    await once()
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)
  return {
    p50Ms: +percentile(latencies, 50).toFixed(3),
    p90Ms: +percentile(latencies, 90).toFixed(3),
    p99Ms: +percentile(latencies, 99).toFixed(3),
  }
}

function http1Get(port, agent, headers) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      .on('error', reject)
  })
}

function h2Get(session, headers) {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/', ...headers })
    stream.resume()
    stream.on('end', resolve)
    stream.on('error', reject)
  })
}

const web = http.createServer((_req, res) => res.end('ok\n'))
const h2 = http2.createServer()
h2.on('stream', (stream) => {
  stream.respond({ ':status': 200 })
  stream.end('ok\n')
})
const [webPort, h2Port] = [await listen(web), await listen(h2)]
const [routedWeb, routedH2, controlPort] = [await freePort(), await freePort(), await freePort()]

const agent = spawn(process.execPath, [bundle], {
  env: {
    ...process.env,
    KTX_AUTHORIZED_KEY: generateSessionKey('bench').publicKey,
    KTX_SSH_PORT: '0',
    KTX_HEALTH_PORT: '0',
    KTX_AGENT_MODE: 'router',
    KTX_CONTROL_PORT: String(controlPort),
    KTX_ROUTER_PORTS: encodeRouterPorts([
      { port: routedWeb, fallback: `127.0.0.1:${webPort}` },
      { port: routedH2, fallback: `127.0.0.1:${h2Port}` },
    ]),
  },
  stdio: ['ignore', 'ignore', 'pipe'],
})
await new Promise((resolve, reject) => {
  createInterface({ input: agent.stderr }).on('line', (line) => {
    if (JSON.parse(line).message === 'Agent ready') resolve()
  })
  agent.once('exit', (code) => reject(new Error(`agent exited with ${code}`)))
})
const control = openRouterControl(net.connect({ host: '127.0.0.1', port: controlPort }))
// The "dev" target is the same server: the numbers compare paths, not servers.
await control.add({
  session: 'bench',
  header: 'version',
  value: 'dev',
  targets: { [routedWeb]: `127.0.0.1:${webPort}`, [routedH2]: `127.0.0.1:${h2Port}` },
})

const results = {}
const keepAlive = () => new http.Agent({ keepAlive: true, maxSockets: 1 })
for (const [label, port, headers] of [
  ['direct', webPort, {}],
  ['routerRouted', routedWeb, { version: 'dev' }],
  ['routerFallback', routedWeb, {}],
]) {
  const pooled = keepAlive()
  results[`http1KeepAlive.${label}`] = await measure(() => http1Get(port, pooled, headers))
  pooled.destroy()
  results[`http1NewConnection.${label}`] = await measure(() =>
    http1Get(port, false, { ...headers, connection: 'close' }),
  )
}
for (const [label, port, headers] of [
  ['direct', h2Port, {}],
  ['routerRouted', routedH2, { version: 'dev' }],
  ['routerFallback', routedH2, {}],
]) {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  results[`h2.${label}`] = await measure(() => h2Get(session, headers))
  session.close()
}

const added = {}
for (const kind of ['http1KeepAlive', 'http1NewConnection', 'h2'])
  added[kind] = +(results[`${kind}.routerRouted`].p50Ms - results[`${kind}.direct`].p50Ms).toFixed(3)
console.log(JSON.stringify({ rounds, node: process.version, results, routerAddedP50Ms: added }, null, 2))

await control.close()
agent.kill('SIGTERM')
web.close()
h2.close()
