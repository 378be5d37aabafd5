import type { AddressInfo } from 'node:net'
import { connect as netConnect } from 'node:net'
import { createServer, type IncomingMessage, type Server } from 'node:http'

import { WebSocketServer, type WebSocket } from 'ws'

/** How the fake API server treats an upgrade. */
export type FakeBehaviour =
  | { readonly kind: 'forward'; readonly targetPort: number }
  | { readonly kind: 'error-channel'; readonly message: string }
  | { readonly kind: 'http-status'; readonly status: number; readonly message: string }

/**
 * A small stand-in for the API server's pod port-forward endpoint speaking `v4.channel.k8s.io`:
 * it announces the port on channels 0 and 1 (2 bytes little-endian), bridges channel 0 to a local
 * TCP port, and reports failures on channel 1, as the kubelet does.
 */
export async function startFakePortForward(behaviour: FakeBehaviour): Promise<{
  url: (port: number) => string
  server: Server
  requests: IncomingMessage[]
  close: () => Promise<void>
}> {
  const requests: IncomingMessage[] = []
  const server = createServer((_req, res) => {
    res.writeHead(404)
    res.end()
  })
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  })
  server.on('upgrade', (req, socket, head) => {
    requests.push(req)
    if (behaviour.kind === 'http-status') {
      const body = JSON.stringify({ kind: 'Status', code: behaviour.status, message: behaviour.message })
      socket.end(
        `HTTP/1.1 ${behaviour.status} Nope\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      )
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const port = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ports'))
      serve(ws, port, behaviour)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (podPort) => `ws://127.0.0.1:${port}/api/v1/namespaces/ns/pods/pod/portforward?ports=${podPort}`,
    server,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate()
        server.close(() => resolve())
      }),
  }
}

function serve(ws: WebSocket, port: number, behaviour: FakeBehaviour): void {
  const prefix = Buffer.from([port & 0xff, port >> 8])
  ws.send(Buffer.concat([Buffer.from([0]), prefix]))
  ws.send(Buffer.concat([Buffer.from([1]), prefix]))
  if (behaviour.kind === 'error-channel') {
    ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(behaviour.message)]))
    ws.close(1000)
    return
  }
  if (behaviour.kind !== 'forward') return
  const target = netConnect({ host: '127.0.0.1', port: behaviour.targetPort })
  target.on('data', (chunk: Buffer) => {
    ws.send(Buffer.concat([Buffer.from([0]), chunk]))
  })
  target.on('error', (error) => {
    ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(error.message)]))
    ws.close(1000)
  })
  target.on('close', () => ws.close(1000))
  ws.on('message', (data: Buffer) => {
    if (data[0] === 0) target.write(data.subarray(1))
  })
  ws.on('close', () => target.destroy())
}
