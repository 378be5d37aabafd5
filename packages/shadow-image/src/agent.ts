import type { Server as NetServer, Socket } from 'node:net'

import ssh2, { type Connection } from 'ssh2'

import { authenticate, parseAuthorizedKey } from './auth.js'
import type { BaseAgentConfig } from './config.js'
import { createDirectServer } from './direct-server.js'
import { openDirect } from './direct-tcpip.js'
import { createHealthServer } from './health.js'
import { closeServer, listen } from './listen.js'
import type { AgentLog } from './log.js'
import { RemoteForwards } from './remote-forward.js'
import { sshCryptoKind } from './ssh-crypto.js'

/** A running agent. */
export interface Agent {
  readonly sshPort: number
  readonly directPort: number
  readonly healthPort: number
  /** TCP sockets the agent holds open (targets and remote-forward peers), for leak checks. */
  readonly openSockets: number
  /** Stops both servers and drops every connection. */
  close(): Promise<void>
}

/**
 * Starts the in-pod agent: an SSH server on loopback that accepts only the session key and serves
 * `direct-tcpip` (outbound) and `tcpip-forward` (inbound), plus the health endpoint. The host key
 * is generated here and never stored.
 */
export async function startAgent(config: BaseAgentConfig, log: AgentLog): Promise<Agent> {
  const allowed = parseAuthorizedKey(config.authorizedKey)
  const hostKey = generateHostKey()
  const sockets = new Set<Socket>()
  const clients = new Set<Connection>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  let sshListening = false

  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    clients.add(client)
    // Nagle on this socket stalls every small SSH packet behind a 40 ms delayed ACK: a new
    // connection through the tunnel took ~90 ms instead of ~5 ms.
    // ssh2's Connection has setNoDelay at run time; its type definitions omit it.
    ;(client as Connection & { setNoDelay(noDelay: boolean): void }).setNoDelay(true)
    const forwards = new RemoteForwards(client, log, track)
    client.on('authentication', (ctx) => {
      authenticate(ctx, allowed)
    })
    client.on('ready', () => {
      log('info', 'Client authenticated')
      client.on('tcpip', (accept, reject, info) => {
        openDirect(client, info, accept, reject, log, track)
      })
      client.on('request', (accept, reject, name, info) => {
        if (name === 'tcpip-forward') forwards.listen(info, accept, reject)
        else forwards.cancel(info, accept, reject)
      })
      client.on('session', (_accept, reject) => {
        reject()
      })
    })
    client.on('error', (error) => {
      log('debug', 'SSH client error', { error: error.message })
    })
    client.on('close', () => {
      clients.delete(client)
      forwards.closeAll()
      log('info', 'Client disconnected')
    })
  })
  const sshServer = server as unknown as NetServer
  const sshPort = await listen(sshServer, config.sshHost, config.sshPort, log, 'ssh')
  const direct = createDirectServer(allowed, log, track)
  const directPort = await listen(direct, config.directHost, config.directPort, log, 'direct')
  sshListening = true
  const health = createHealthServer(() => sshListening)
  const healthPort = await listen(health, config.healthHost, config.healthPort, log, 'health')
  log('info', 'Agent ready', { sshPort, directPort, healthPort, sshCrypto: sshCryptoKind() })

  return {
    sshPort,
    directPort,
    healthPort,
    get openSockets() {
      return sockets.size
    },
    async close() {
      sshListening = false
      for (const client of clients) client.end()
      for (const socket of sockets) socket.destroy()
      health.closeAllConnections()
      await Promise.all([closeServer(sshServer), closeServer(direct), closeServer(health)])
    },
  }
}

// ssh2 1.17 sometimes (about 1 in 1000) generates an ed25519 key its own parser rejects; retry.
function generateHostKey(): string {
  for (let attempt = 1; ; attempt++) {
    const key = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'ktx-agent' }).private
    if (!(ssh2.utils.parseKey(key) instanceof Error)) return key
    if (attempt >= 20) throw new Error('could not generate a usable host key')
  }
}
