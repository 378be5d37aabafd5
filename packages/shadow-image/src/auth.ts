import { timingSafeEqual } from 'node:crypto'

import ssh2, { type AuthContext, type ParsedKey } from 'ssh2'

/** Parses the authorized key; throws when it is not a valid OpenSSH public key. */
export function parseAuthorizedKey(text: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(text)
  if (parsed instanceof Error) throw new Error(`invalid authorized key: ${parsed.message}`)
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
  if (!key) throw new Error('invalid authorized key: empty')
  return key
}

/**
 * Accepts public-key auth with exactly `allowed` (verifying the signature when one is sent) and
 * rejects everything else, offering only `publickey`.
 */
export function authenticate(ctx: AuthContext, allowed: ParsedKey): void {
  if (ctx.method !== 'publickey') {
    ctx.reject(['publickey'])
    return
  }
  const expected = allowed.getPublicSSH()
  const sameKey =
    ctx.key.algo === allowed.type &&
    ctx.key.data.length === expected.length &&
    timingSafeEqual(ctx.key.data, expected)
  if (!sameKey) {
    ctx.reject(['publickey'])
    return
  }
  // Without a signature the client only asks whether this key would do; the real login signs.
  if (ctx.signature === undefined || ctx.blob === undefined) {
    ctx.accept()
    return
  }
  if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) ctx.accept()
  else ctx.reject(['publickey'])
}
