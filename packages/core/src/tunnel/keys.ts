import ssh2 from 'ssh2'

/** A session's SSH key pair. Lives only in this process's memory. */
export interface SessionKeyPair {
  /** OpenSSH private key. Never logged, written to disk, or sent to the cluster. */
  readonly privateKey: string
  /** `ssh-ed25519 AAAA… comment`, the form the agent's `KTX_AUTHORIZED_KEY` takes. */
  readonly publicKey: string
}

/** Makes a fresh ed25519 key pair for one session. */
export function generateSessionKey(comment = 'ktx-session'): SessionKeyPair {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment })
  return { privateKey: pair.private, publicKey: pair.public }
}
