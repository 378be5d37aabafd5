import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { isKtxError } from '../errors.js'
import { resolveKubeConfig } from './kubeconfig.js'

const file = join(mkdtempSync(join(tmpdir(), 'ktx-kubeconfig-')), 'config')
writeFileSync(
  file,
  `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster: { server: "https://127.0.0.1:6443" }
- name: c2
  cluster: { server: "https://10.9.9.9:6443" }
users:
- name: u
  user: { token: abc }
contexts:
- name: dev
  context: { cluster: c1, user: u, namespace: team-a }
- name: prod
  context: { cluster: c2, user: u }
`,
)

describe('resolveKubeConfig', () => {
  it("honours the current context's namespace", () => {
    expect(resolveKubeConfig({ kubeconfig: file })).toMatchObject({
      context: 'dev',
      namespace: 'team-a',
      server: 'https://127.0.0.1:6443',
    })
  })

  it('lets --namespace win, and falls back to default for a context without one', () => {
    expect(resolveKubeConfig({ kubeconfig: file, namespace: 'x' }).namespace).toBe('x')
    expect(resolveKubeConfig({ kubeconfig: file, context: 'prod' })).toMatchObject({
      context: 'prod',
      namespace: 'default',
      server: 'https://10.9.9.9:6443',
    })
  })

  it('lists the available contexts for an unknown one', () => {
    let caught: unknown
    try {
      resolveKubeConfig({ kubeconfig: file, context: 'staging' })
    } catch (error) {
      caught = error
    }
    expect(isKtxError(caught) && caught.code).toBe('KTX_KUBE_CONTEXT_NOT_FOUND')
    expect((caught as Error).message).toContain('Context "staging" not found')
    expect((caught as Error).message).toContain('available contexts: dev, prod')
  })

  it('reports an unreadable file as an invalid kubeconfig', () => {
    let caught: unknown
    try {
      resolveKubeConfig({ kubeconfig: join(tmpdir(), 'does-not-exist-ktx') })
    } catch (error) {
      caught = error
    }
    expect(isKtxError(caught) && caught.code).toBe('KTX_KUBECONFIG_INVALID')
  })
})
