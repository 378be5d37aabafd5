/**
 * ServiceAccounts bound to nothing but one of the Roles of `@ktx/core/kube`'s RBAC table (the one
 * `docs/rbac/` is rendered from), or that Role with one right taken away.
 */
import { type RbacProfileName, type RbacRule, rbacProfile, rulesYaml } from '@ktx/core/kube'

import { type ClusterEnv, kubectl, tokenKubeconfig } from './cluster.js'

/** One right: a verb on a resource. */
export interface Right {
  readonly verb: string
  readonly resource: string
}

/** `rules` without `right`; throws when no rule grants it, so a test never removes nothing. */
export function withoutRight(rules: readonly RbacRule[], right: Right): RbacRule[] {
  if (!rules.some((r) => r.resource === right.resource && r.verbs.includes(right.verb))) {
    throw new Error(`no rule grants ${right.verb} on ${right.resource}`)
  }
  return rules
    .map((r) =>
      r.resource === right.resource ? { ...r, verbs: r.verbs.filter((v) => v !== right.verb) } : r,
    )
    .filter((r) => r.verbs.length > 0)
}

/**
 * A kubeconfig (token from the TokenRequest API) for a new ServiceAccount bound only to the
 * profile's Role in `namespace`, less `without` when given.
 */
export function profileKubeconfig(
  env: ClusterEnv,
  namespace: string,
  profile: RbacProfileName,
  without?: Right,
): Promise<string> {
  const rules = rbacProfile(profile).rules
  const name = without ? `${profile}-no-${without.verb}-${without.resource.replace('/', '-')}` : profile
  return tokenKubeconfig(env, namespace, name, rulesYaml(without ? withoutRight(rules, without) : rules))
}

/** A kubeconfig for `clean --all-namespaces`, and the cluster-wide objects it needed. */
export interface AllNamespacesCleaner extends AsyncDisposable {
  readonly kubeconfig: string
  /** Deletes the ClusterRole and its binding (the namespaced parts go with their namespaces). */
  close(): Promise<void>
}

/**
 * A ServiceAccount that may list ktx's objects across the cluster (the clean profile's optional
 * cluster-wide rules, and nothing else cluster-wide) and clean only in `namespaces` (the clean
 * Role in each): a run cannot change anything in namespaces other tests own.
 */
export async function allNamespacesCleaner(
  env: ClusterEnv,
  namespaces: readonly [string, ...string[]],
): Promise<AllNamespacesCleaner> {
  const [home, ...rest] = namespaces
  const name = `clean-all-${home}`
  const profile = rbacProfile('clean')
  const kubeconfig = await tokenKubeconfig(env, home, name, rulesYaml(profile.rules))
  const subject = `subjects: [{kind: ServiceAccount, name: ${name}, namespace: ${home}}]`
  const namespaced = rest.map(
    (ns) => `---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ${name}, namespace: ${ns}}
rules:
${rulesYaml(profile.rules)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ${name}, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${name}}
${subject}`,
  )
  const cluster = `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ktx-e2e-${name}}
rules:
${rulesYaml(profile.optional.filter((r) => r.scope === 'cluster'))}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ktx-e2e-${name}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ktx-e2e-${name}}
${subject}`
  await kubectl(env, ['apply', '-f', '-'], [...namespaced, cluster].join('\n'))
  const close = async (): Promise<void> => {
    await kubectl(env, ['delete', 'clusterrolebinding,clusterrole', `ktx-e2e-${name}`, '--ignore-not-found'])
  }
  return { kubeconfig, close, [Symbol.asyncDispose]: close }
}
