// A longer way to the cluster, for `--delay-ms` (this kernel has no netem): a TCP relay on the
// laptop's loopback to the API server that holds every chunk back for half the delay in each
// direction, so a round trip through it takes `delay-ms` more. The bench's kubeconfig points at it
// (127.0.0.1 is in the API server's certificate), so every session, port-forward and kubectl call
// crosses it. Each direction of a connection holds at most WINDOW bytes in flight (then it stops
// reading), which bounds a connection to WINDOW / (delay / 2) like a TCP window of that size; TCP
// slow start and loss are not modelled. Prints `listening <port>`; ends with its stdin.
//
//   node bench/lib/delay-proxy.mjs <host:port> <delay-ms>
import { connect, createServer } from 'node:net'
import { setTimeout } from 'node:timers'

const WINDOW = 8 * 1024 * 1024

const [target, delayArg] = process.argv.slice(2)
const [host, port] = (target ?? '').split(':')
const oneWay = Number(delayArg) / 2
if (!host || !(Number(port) > 0) || !(oneWay >= 0)) {
  console.error('usage: delay-proxy.mjs <host:port> <delay-ms>')
  process.exit(2)
}

/** from → to, every chunk `oneWay` ms late, in order. */
function relay(from, to) {
  let held = 0
  from.on('data', (chunk) => {
    held += chunk.length
    if (held >= WINDOW) from.pause()
    setTimeout(() => {
      held -= chunk.length
      if (!to.destroyed) to.write(chunk)
      if (held < WINDOW && to.writableLength < WINDOW) from.resume()
    }, oneWay)
  })
  to.on('drain', () => {
    if (held < WINDOW) from.resume()
  })
  from.on('end', () => setTimeout(() => to.end(), oneWay))
  // A reset (not an end) is passed on as one, as late as the data before it.
  from.on('error', () => undefined)
  from.on('close', (hadError) => {
    if (hadError) setTimeout(() => to.destroy(), oneWay)
  })
}

const server = createServer({ noDelay: true }, (client) => {
  const upstream = connect({ host, port: Number(port), noDelay: true })
  relay(client, upstream)
  relay(upstream, client)
})
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`))
for (const name of ['SIGINT', 'SIGTERM']) process.on(name, () => process.exit(0))
// Its stdin is a pipe from the bench: gone with the bench, however the bench ends.
process.stdin.on('close', () => process.exit(0)).resume()
