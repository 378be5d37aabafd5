/** Tunnel building blocks: SSH connection, SOCKS5 and HTTP proxies, agents. Each returns a handle. */
export { type Dialer, DialError } from './dialer.js'
export { generateSessionKey, type SessionKeyPair, sessionSigner } from './keys.js'
export { createDirectDialer, type DirectDialer, type DirectDialerOptions } from './direct-dialer.js'
export { joinStreams } from './pipe.js'
export { openSsh, type OpenSshOptions, type ReverseConnectionHandler, type SshConnection } from './ssh.js'
export { startSocks5, type Socks5Options, type Socks5Server } from './socks5.js'
export { startHttpProxy, type HttpProxyOptions, type HttpProxyServer, parseAuthority } from './http-proxy.js'
export { socks5Connect, type Socks5ConnectOptions } from './socks-client.js'
export { TunnelHttpAgent, TunnelHttpsAgent, type SocksEndpoint } from './tunnel-agent.js'
export { startReverseForward, type ReverseForward, type ReverseForwardOptions } from './reverse.js'
export { openRouterControl, type RouterControl, type RouterControlOptions } from './router-control.js'
export {
  type ProxyCredentials,
  basicAuthorization,
  generateCredentials,
  urlWithCredentials,
} from './proxy-auth.js'
