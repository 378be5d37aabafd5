// The "no SSH" alternative for the bulk scenario: a local listener whose every connection is one
// port-forward WebSocket of ktx's own (openPortForward from @ktx/core/kube) straight to the pod's
// port, joined with ktx's pipe. It is what the data path would cost with the SSH layer (and the
// agent) taken out, since the port-forward already runs inside TLS. Prints `listening <port>`.
//
//   node bench/lib/ws-forward.mjs <namespace> <pod> <port>
import { createServer } from 'node:net'

import { createKube, openPortForward } from '@ktx/core/kube'
import { joinStreams } from '@ktx/core/pipe'

const [namespace, pod, portArg] = process.argv.slice(2)
if (!namespace || !pod || !(Number(portArg) > 0)) {
  console.error('usage: ws-forward.mjs <namespace> <pod> <port>')
  process.exit(2)
}
const kube = createKube({ namespace })
const server = createServer({ noDelay: true }, (socket) => {
  socket.pause()
  openPortForward(kube, { pod, port: Number(portArg), timeoutMs: 10_000 }).then(
    (stream) => {
      joinStreams(socket, stream)
      socket.resume()
    },
    (error) => {
      console.error(String(error))
      socket.destroy()
    },
  )
})
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`))
process.once('SIGTERM', () => {
  server.close()
  process.exit(0)
})
