// ssh2 keeps whether its native addon loaded in an internal module; it has no types of its own.
declare module 'ssh2/lib/protocol/crypto.js' {
  const crypto: { readonly bindingAvailable: boolean }
  export default crypto
}
