import type { V1PodSpec, V1Service } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'

import { isKtxError } from '../../errors.js'
import { planExpose, targetPortsOf } from './target-ports.js'

const service: V1Service = {
  spec: {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'admin', port: 9000, targetPort: 90 },
      { name: 'plain', port: 7000 },
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
      { name: 'ghost', port: 81, targetPort: 'nowhere' },
    ],
  },
}
const podSpec: V1PodSpec = {
  containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080 }] }],
}

describe('target ports', () => {
  it('resolves named target ports from the pod spec and defaults to the Service port; TCP only', () => {
    expect(targetPortsOf(service, podSpec)).toEqual([
      { port: 80, portName: 'http', target: 'http', resolved: 8080 },
      { port: 9000, portName: 'admin', target: 90, resolved: 90 },
      { port: 7000, portName: 'plain', target: 7000, resolved: 7000 },
      { port: 81, portName: 'ghost', target: 'nowhere', resolved: undefined },
    ])
  })

  it('plans shadow ports under the target port names, and lists what is left unexposed', () => {
    const plan = planExpose(
      'web',
      [
        { local: 3000, remote: 8080 },
        { local: 3001, remote: 90 },
      ],
      targetPortsOf(service, podSpec),
    )
    expect(plan.shadowPorts).toEqual([{ name: 'http', containerPort: 8080 }, { containerPort: 90 }])
    expect(plan.unexposed.map((t) => t.port)).toEqual([7000, 81])
  })

  it('rejects a remote port that is only a Service port, listing the valid target ports', () => {
    let caught: unknown
    try {
      planExpose('web', [{ local: 3000, remote: 80 }], targetPortsOf(service, podSpec))
    } catch (error) {
      caught = error
    }
    expect(isKtxError(caught) && caught.code).toBe('KTX_EXPOSE_INVALID')
    const error = caught as Error & { suggestions: string[] }
    expect(error.message).toBe('Port 80 is not a target port of Service "web"')
    expect(error.suggestions[0]).toBe(
      'Its target ports: 8080 "http" (Service port 80 "http"); 90 (Service port 9000 "admin"); 7000 (Service port 7000 "plain"); "nowhere" (Service port 81 "ghost"; no container declares it)',
    )
  })
})
