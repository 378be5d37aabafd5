/**
 * Credentials for the local proxies. Without them any local user (or, on a non-loopback address,
 * anyone on the network) could reach the cluster with this user's identity through them. SOCKS5
 * takes them as username/password (RFC 1929), the HTTP proxy as `Proxy-Authorization: Basic`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A username and password the proxies require. */
export interface ProxyCredentials {
  readonly username: string
  readonly password: string
}

/** Fresh credentials for one session: user `ktx`, 128 random bits of password. */
export function generateCredentials(): ProxyCredentials {
  return { username: 'ktx', password: randomBytes(16).toString('base64url') }
}

/** Constant-time comparison (over digests, so lengths do not leak either). */
export function credentialsMatch(expected: ProxyCredentials, username: string, password: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest()
  const userOk = timingSafeEqual(digest(expected.username), digest(username))
  const passOk = timingSafeEqual(digest(expected.password), digest(password))
  return userOk && passOk
}

/** The `Proxy-Authorization` value for `credentials`. */
export function basicAuthorization(credentials: ProxyCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
}

/** Whether a `Proxy-Authorization` header carries `expected`. */
export function acceptsBasic(header: string | undefined, expected: ProxyCredentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!match?.[1]) return false
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  return credentialsMatch(expected, decoded.slice(0, colon), decoded.slice(colon + 1))
}

/** `scheme://user:password@host:port` for a proxy URL of the form `scheme://host:port`. */
export function urlWithCredentials(url: string, credentials: ProxyCredentials | undefined): string {
  if (credentials === undefined) return url
  const user = `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}`
  return url.replace('://', `://${user}@`)
}
