/**
 * Readiness through the tunnel, observed rather than assumed: tun2socks answers pings itself
 * (ktconnect.md §3.6), so only a real exchange counts.
 * - TCP: a DNS query over TCP to the cluster DNS Service's ClusterIP, through the TUN device
 *   (or, without a DNS Service, a TLS handshake with the `kubernetes` Service; or, when neither
 *   could be read, which a Role without rights in kube-system and default gives, the shadow pod's
 *   own health endpoint by its pod IP).
 * - DNS: the system resolver (getaddrinfo) resolves a cluster name to the expected address.
 * Each is retried until it succeeds or its deadline passes.
 */
import { lookup } from 'node:dns/promises'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

import { get } from 'node:http'

import { AGENT_HEALTH_PATH, AGENT_HEALTH_PORT } from '../../contract.js'
import { TunnelError } from '../../errors.js'
import { FrameReader, Packet, buildQuery, frame } from '../../dns/wire.js'
import { retry } from '../../util/sleep.js'

/** Options of {@link probeTcp} and {@link probeDns}. */
export interface ProbeOptions {
  readonly timeoutMs: number
  readonly signal?: AbortSignal
}

/**
 * Asks the cluster DNS at `dnsIP:53` over TCP (through the routes) for `name`.
 * @throws TunnelError `KTX_TUNNEL_PROBE_FAILED` with the last failure.
 */
export async function probeTcp(
  target: {
    readonly dnsIP?: string | undefined
    readonly kubernetesIP?: string | undefined
    /** The shadow pod's IP: the last resort. */
    readonly shadowIP?: string | undefined
    readonly name: string
  },
  options: ProbeOptions,
): Promise<string> {
  const what = target.dnsIP
    ? `a DNS query over TCP to the cluster DNS ${target.dnsIP}:53`
    : target.kubernetesIP
      ? `a TLS handshake with the kubernetes Service ${target.kubernetesIP}:443`
      : `a GET of the shadow pod's health endpoint ${target.shadowIP ?? '?'}:${String(AGENT_HEALTH_PORT)}`
  return retry(
    async (signal) => {
      if (target.dnsIP) return tcpDnsQuery(target.dnsIP, target.name, signal)
      if (target.kubernetesIP) return tlsHandshake(target.kubernetesIP, signal)
      if (target.shadowIP) return healthCheck(target.shadowIP, signal)
      throw new Error('neither the cluster DNS, the kubernetes Service nor the shadow pod address is known')
    },
    options,
    (last) =>
      new TunnelError('KTX_TUNNEL_PROBE_FAILED', `No answer through the tunnel: ${what} failed (${last})`, {
        suggestions: [
          'Run with --debug and look at the tun2socks and SOCKS lines.',
          'Check the routes with `ip route` and the plan with --dryRun.',
        ],
      }),
  )
}

/**
 * Resolves `name` with the system resolver, expecting `address` when given.
 * @throws TunnelError `KTX_DNS_PROBE_FAILED` with the last failure.
 */
export async function probeDns(
  name: string,
  address: string | undefined,
  options: ProbeOptions,
): Promise<string> {
  return retry(
    async () => {
      const found = (await lookup(name, { all: true })).map((a) => a.address)
      if (address !== undefined && !found.includes(address)) {
        throw new Error(`${name} resolved to ${found.join(', ')}, expected ${address}`)
      }
      return found.join(', ')
    },
    options,
    (last) =>
      new TunnelError('KTX_DNS_PROBE_FAILED', `The system resolver cannot resolve ${name} (${last})`, {
        suggestions: [
          'Run with --debug to see the local DNS server at work.',
          'Check /etc/resolv.conf (or `resolvectl status`); another tool may have rewritten it.',
          'Use --dnsMode hosts if this machine resolves names in an unusual way.',
        ],
      }),
  )
}

function tcpDnsQuery(ip: string, name: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: ip, port: 53, noDelay: true })
    const reader = new FrameReader()
    const done = (error?: Error, value?: string): void => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      if (error) reject(error)
      else resolve(value ?? '')
    }
    const onAbort = (): void => {
      done(new Error('timed out'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('error', (error) => {
      done(error)
    })
    socket.once('close', () => {
      done(new Error('connection closed before an answer'))
    })
    socket.once('connect', () => {
      socket.write(frame(buildQuery(0x6b74, { name, type: Packet.TYPE.A, class: Packet.CLASS.IN })))
    })
    socket.on('data', (chunk: Buffer) => {
      const [message] = reader.push(chunk)
      if (!message) return
      const answer = Packet.parse(message)
      const addresses = answer.answers.map((a) => a.address).filter((a): a is string => a !== undefined)
      if (answer.header.rcode !== 0 || addresses.length === 0) {
        done(
          new Error(
            `the cluster DNS answered rcode ${answer.header.rcode} with ${addresses.length} address(es)`,
          ),
        )
      } else done(undefined, addresses.join(', '))
    })
  })
}

function tlsHandshake(ip: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    // Only the handshake matters here: it proves bytes flow both ways through the tunnel.
    const socket = tlsConnect({
      host: ip,
      port: 443,
      rejectUnauthorized: false,
      servername: 'kubernetes.default',
    })
    const onAbort = (): void => {
      socket.destroy()
      reject(new Error('timed out'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve(`TLS ${socket.getProtocol() ?? ''}`)
    })
    socket.once('error', (error: Error) => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(error)
    })
  })
}

function healthCheck(ip: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(
      { host: ip, port: AGENT_HEALTH_PORT, path: AGENT_HEALTH_PATH, signal },
      (response) => {
        response.resume()
        if (response.statusCode === 200) resolve(`HTTP 200 from the shadow pod ${ip}`)
        else
          reject(new Error(`the shadow pod's health endpoint answered HTTP ${String(response.statusCode)}`))
      },
    )
    request.once('error', reject)
  })
}
