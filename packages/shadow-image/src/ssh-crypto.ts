import sshCryptoInternals from 'ssh2/lib/protocol/crypto.js'

/**
 * Which crypto ssh2 runs on: `native` when its addon loaded (the image build puts it beside the
 * bundle), `js` when it fell back to Node's crypto API per packet, about twice the agent's CPU per
 * GB moved. Logged at start so a slow tunnel can be told apart from a slow image.
 */
export function sshCryptoKind(): 'native' | 'js' {
  return sshCryptoInternals.bindingAvailable ? 'native' : 'js'
}
