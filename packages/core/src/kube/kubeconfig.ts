import { KubeConfig } from '@kubernetes/client-node'

import { ConfigError, messageOf } from '../errors.js'

/** Where to find the cluster. Everything optional: the standard kubeconfig loading rules apply. */
export interface KubeOptions {
  /** Path of a kubeconfig file. Default: `$KUBECONFIG` (merged) or `~/.kube/config`, as kubectl does. */
  readonly kubeconfig?: string
  /** Context to use instead of the kubeconfig's current one. */
  readonly context?: string
  /** Namespace for ktx's objects. Default: the context's namespace, then `default`. */
  readonly namespace?: string
}

/** A kubeconfig resolved down to one context. */
export interface ResolvedKubeConfig {
  readonly config: KubeConfig
  readonly context: string
  readonly namespace: string
  /** API server URL of the context's cluster. */
  readonly server: string
}

/**
 * Loads the kubeconfig and pins the context. The context's own namespace is honoured when no
 * namespace is given (ktctl ignored it: its bug 79f46b1).
 * @throws ConfigError `KTX_KUBECONFIG_INVALID` for an unreadable file or a context without a
 *   cluster; `KTX_KUBE_CONTEXT_NOT_FOUND` (listing the available contexts) for an unknown context.
 */
export function resolveKubeConfig(options: KubeOptions = {}): ResolvedKubeConfig {
  const config = new KubeConfig()
  const source = options.kubeconfig ?? 'the default kubeconfig ($KUBECONFIG or ~/.kube/config)'
  try {
    if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig)
    else config.loadFromDefault()
  } catch (error) {
    throw new ConfigError('KTX_KUBECONFIG_INVALID', `Cannot load ${source}: ${messageOf(error)}`, {
      cause: error,
      suggestions: ['Check the file exists and is valid YAML, or pass --kubeconfig <path>.'],
    })
  }

  const available = config.getContexts().map((c) => c.name)
  const contextName = options.context ?? config.getCurrentContext()
  if (options.context !== undefined || contextName) {
    const context = config.getContextObject(contextName)
    if (!context) {
      const list = available.length > 0 ? available.join(', ') : '(none)'
      throw new ConfigError(
        'KTX_KUBE_CONTEXT_NOT_FOUND',
        `Context "${contextName}" not found in ${source}; available contexts: ${list}`,
        {
          suggestions: [
            available.length > 0
              ? `Pass one of them with --context, e.g. --context ${available[0] ?? ''}.`
              : 'Add a context with `kubectl config set-context`.',
          ],
          data: { context: contextName, available },
        },
      )
    }
    config.setCurrentContext(contextName)
  }

  const cluster = config.getCurrentCluster()
  if (!cluster) {
    throw new ConfigError(
      'KTX_KUBECONFIG_INVALID',
      `Context "${contextName}" in ${source} names no cluster`,
      {
        suggestions: ['Fix the context with `kubectl config set-context`.'],
      },
    )
  }
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace
  // An empty namespace in the kubeconfig means "not set", like kubectl treats it.
  const namespace =
    options.namespace ??
    (contextNamespace === undefined || contextNamespace === '' ? 'default' : contextNamespace)
  return { config, context: config.getCurrentContext(), namespace, server: cluster.server }
}
