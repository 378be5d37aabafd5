import { type Server, createServer } from 'node:http'

import { AGENT_HEALTH_PATH } from '@ktx/core/contract'

/**
 * The readiness endpoint: `GET /healthz` answers 200 only while `isReady()` is true (the SSH server
 * is listening), 503 before. Everything else is 404.
 */
export function createHealthServer(isReady: () => boolean): Server {
  return createServer((req, res) => {
    if (req.method === 'GET' && req.url === AGENT_HEALTH_PATH) {
      const ready = isReady()
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
      res.end(ready ? 'ok\n' : 'starting\n')
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  })
}
