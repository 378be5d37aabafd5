/**
 * ServiceAccounts bound to nothing but one of the Roles of `@ktx/core/kube`'s RBAC table (the one
 * `docs/rbac/` is rendered from), or that Role with one right taken away.
 */
import { type RbacProfileName, type RbacRule, rbacProfile, rulesYaml } from '@ktx/core/kube'

import { type ClusterEnv, tokenKubeconfig } from './cluster.js'

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
