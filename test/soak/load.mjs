// Steady request load through a ktx SOCKS proxy, a new tunnelled connection per request (the
// path a TUN-mode program takes too). Prints one JSON line per second: {"t":…,"ok":n,"failed":n}.
// Usage: node load.mjs <socksPort> <url> <requestsPerSecond>
import { get } from 'node:http'
import { setInterval } from 'node:timers'

import { TunnelHttpAgent } from '@ktx/core/tunnel'

const [socksPort, url, rate] = process.argv.slice(2)
const agent = new TunnelHttpAgent({ host: '127.0.0.1', port: Number(socksPort) }, { keepAlive: false })
let ok = 0
let failed = 0
let lastError = ''

function once() {
  const request = get(url, { agent, timeout: 5_000 }, (response) => {
    response.resume()
    response.on('end', () => (response.statusCode === 200 ? ok++ : failed++))
    response.on('error', () => failed++)
  })
  request.on('timeout', () => request.destroy(new Error('timeout')))
  request.on('error', (error) => {
    failed++
    lastError = error.message
  })
}

setInterval(once, 1_000 / Number(rate))
setInterval(() => {
  process.stdout.write(`${JSON.stringify({ t: Date.now(), ok, failed, lastError })}\n`)
  ok = 0
  failed = 0
  lastError = ''
}, 1_000)
process.on('SIGTERM', () => process.exit(0))
