import ssh2, { type ParsedKey } from 'ssh2'

/** A session's SSH key pair. Lives only in this process's memory. */
export interface SessionKeyPair {
  /** OpenSSH private key. Never logged, written to disk, or sent to the cluster. */
  readonly privateKey: string
  /** `ssh-ed25519 AAAA… comment`, the form the agent's `KTX_AUTHORIZED_KEY` takes. */
  readonly publicKey: string
}

/**
 * Makes a fresh ed25519 key pair for one session.
 *
 * ssh2 1.17's generator drops a leading zero byte of the public key about once in a thousand keys,
 * and its own parser then rejects the result ("Malformed OpenSSH private key"). So each pair is
 * checked with the parser that will read it, and a bad one is simply made again.
 */
export function generateSessionKey(comment = 'ktx-session'): SessionKeyPair {
  for (let attempt = 1; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment })
    if (isUsable(pair.private) && isUsable(pair.public))
      return { privateKey: pair.private, publicKey: pair.public }
    if (attempt >= 20) throw new Error('could not generate a usable ed25519 key pair')
  }
}

function isUsable(key: string): boolean {
  const parsed = ssh2.utils.parseKey(key)
  return !(parsed instanceof Error) && !Array.isArray(parsed)
}

/** Signs with the session's private key (the direct data path's per-connection proof). */
export function sessionSigner(privateKey: string): (data: Buffer) => Buffer {
  const parsed = ssh2.utils.parseKey(privateKey)
  const key: ParsedKey | Error | undefined = Array.isArray(parsed)
    ? (parsed[0] as ParsedKey | undefined)
    : parsed
  if (key === undefined || key instanceof Error) throw new Error('the session key does not parse')
  return (data) => {
    const signature = key.sign(data)
    if (signature instanceof Error) throw signature
    return signature
  }
}
