import { describe, expect, it } from 'vitest'

import { readAgentConfig } from './config.js'

const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test'

describe('readAgentConfig', () => {
  it('is a shadow agent by default, with the default ports', () => {
    expect(readAgentConfig({ KTX_AUTHORIZED_KEY: key })).toEqual({
      mode: 'shadow',
      authorizedKey: key,
      sshHost: '127.0.0.1',
      sshPort: 2222,
      directHost: '127.0.0.1',
      directPort: 2224,
      healthHost: '0.0.0.0',
      healthPort: 8081,
    })
  })

  it('reads router mode: routed ports on all interfaces, control on loopback', () => {
    const config = readAgentConfig({
      KTX_AUTHORIZED_KEY: key,
      KTX_AGENT_MODE: 'router',
      KTX_ROUTER_PORTS: '[{"port":80,"fallback":"web-stuntman.ns:80"}]',
    })
    expect(config).toMatchObject({
      mode: 'router',
      routerHost: '0.0.0.0',
      routerPorts: [{ port: 80, fallback: 'web-stuntman.ns:80' }],
      controlHost: '127.0.0.1',
      controlPort: 2223,
      sshHost: '127.0.0.1',
    })
    expect(
      readAgentConfig({
        KTX_AUTHORIZED_KEY: key,
        KTX_AGENT_MODE: 'router',
        KTX_ROUTER_PORTS: '[{"port":80,"fallback":"a:1"}]',
        KTX_CONTROL_PORT: '9000',
      }),
    ).toMatchObject({ controlPort: 9000 })
  })

  it('names the variable that is wrong', () => {
    expect(() => readAgentConfig({ KTX_AUTHORIZED_KEY: key, KTX_AGENT_MODE: 'mesh' })).toThrow(
      /KTX_AGENT_MODE must be one of shadow, router, got "mesh"/,
    )
    expect(() => readAgentConfig({ KTX_AUTHORIZED_KEY: key, KTX_AGENT_MODE: 'router' })).toThrow(
      /KTX_ROUTER_PORTS is not set/,
    )
    expect(() =>
      readAgentConfig({ KTX_AUTHORIZED_KEY: key, KTX_AGENT_MODE: 'router', KTX_ROUTER_PORTS: '{}' }),
    ).toThrow(/KTX_ROUTER_PORTS must be a non-empty JSON array/)
    expect(() =>
      readAgentConfig({
        KTX_AUTHORIZED_KEY: key,
        KTX_AGENT_MODE: 'router',
        KTX_ROUTER_PORTS: '[{"port":80,"fallback":"a:1"}]',
        KTX_CONTROL_PORT: 'x',
      }),
    ).toThrow(/KTX_CONTROL_PORT must be a port number/)
    expect(() => readAgentConfig({})).toThrow(/KTX_AUTHORIZED_KEY is not set/)
  })
})
