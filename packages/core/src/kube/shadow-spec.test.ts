import { describe, expect, it } from 'vitest'

import { buildShadowPod } from './shadow-spec.js'

const spec = {
  name: 'ktx-shadow-abc123',
  namespace: 'team-a',
  sessionId: 'abc123',
  owner: 'dev@laptop',
  image: 'localhost/ktx-shadow:dev',
  authorizedKey: 'ssh-ed25519 AAAAC3Nza... ktx-session',
  ownerReferences: [{ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'ktx-abc123', uid: 'u-1' }],
}

describe('buildShadowPod', () => {
  it('labels, annotates and owns the pod by the session lease', () => {
    const pod = buildShadowPod(spec)
    expect(pod.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'ktx',
      'ktx.dev/session': 'abc123',
      'ktx.dev/role': 'shadow',
    })
    expect(pod.metadata?.annotations).toEqual({ 'ktx.dev/owner': 'dev@laptop' })
    expect(pod.metadata?.ownerReferences).toEqual(spec.ownerReferences)
    expect(pod.metadata?.namespace).toBe('team-a')
  })

  it('passes only the public key, the agent ports and IfNotPresent pulls', () => {
    const container = buildShadowPod(spec).spec?.containers[0]
    expect(container?.image).toBe('localhost/ktx-shadow:dev')
    expect(container?.imagePullPolicy).toBe('IfNotPresent')
    expect(container?.env).toEqual([
      { name: 'KTX_AUTHORIZED_KEY', value: 'ssh-ed25519 AAAAC3Nza... ktx-session' },
      { name: 'KTX_SSH_PORT', value: '2222' },
      { name: 'KTX_HEALTH_PORT', value: '8081' },
    ])
    expect(JSON.stringify(buildShadowPod(spec))).not.toMatch(/PRIVATE KEY/)
  })

  it('gates readiness on the agent health endpoint', () => {
    const container = buildShadowPod({ ...spec, healthPort: 9000 }).spec?.containers[0]
    expect(container?.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 9000 })
    expect(container?.ports).toEqual([{ name: 'health', containerPort: 9000, protocol: 'TCP' }])
  })

  it('runs unprivileged and never restarts', () => {
    const pod = buildShadowPod(spec)
    expect(pod.spec?.restartPolicy).toBe('Never')
    expect(pod.spec?.securityContext?.runAsNonRoot).toBe(true)
    expect(pod.spec?.automountServiceAccountToken).toBe(false)
    expect(pod.spec?.containers[0]?.securityContext?.capabilities?.drop).toEqual(['ALL'])
  })

  it('omits ownerReferences when there is no lease', () => {
    const { ownerReferences: _omit, ...rest } = spec
    expect(buildShadowPod(rest).metadata).not.toHaveProperty('ownerReferences')
  })

  it('carries the role, extra labels and inbound ports named like the Service targets them', () => {
    const pod = buildShadowPod({
      ...spec,
      role: 'exchange',
      labels: { 'ktx.dev/exchange': 'abc123', 'ktx.dev/role': 'not-this' },
      ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }],
    })
    expect(pod.metadata?.labels).toEqual({
      'ktx.dev/exchange': 'abc123',
      'app.kubernetes.io/managed-by': 'ktx',
      'ktx.dev/session': 'abc123',
      'ktx.dev/role': 'exchange',
    })
    expect(pod.spec?.containers[0]?.ports).toEqual([
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { containerPort: 9090, protocol: 'TCP' },
    ])
    expect(pod.spec?.securityContext).not.toHaveProperty('sysctls')
  })

  it('lets the unprivileged agent bind ports below 1024, and yields the name "health" to a Service', () => {
    const pod = buildShadowPod({ ...spec, ports: [{ name: 'health', containerPort: 80 }] })
    expect(pod.spec?.securityContext?.sysctls).toEqual([
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
    ])
    expect(pod.spec?.containers[0]?.ports).toEqual([
      { containerPort: 8081, protocol: 'TCP' },
      { name: 'health', containerPort: 80, protocol: 'TCP' },
    ])
  })
})
