/**
 * More busybox apps beside the exchange fixture's `web`, for suites that need several Services or
 * a StatefulSet: each pod answers "real <pod name>" on 8080, its Service maps 80 → 8080.
 */
import { spawn } from 'node:child_process'

import { type ClusterEnv, kubectl } from './cluster.js'

export interface AppOptions {
  readonly kind: 'Deployment' | 'StatefulSet'
  readonly replicas: number
  /** StatefulSets only; Kubernetes defaults it to OrderedReady. */
  readonly podManagementPolicy?: 'OrderedReady' | 'Parallel'
}

const POD_COMMAND = `[sh, -c, 'mkdir -p /srv && echo "real $HOSTNAME" > /srv/index.html && exec httpd -f -p 8080 -h /srv']`

/**
 * The app's manifest: the workload and a Service `<name>`; a StatefulSet also gets the headless
 * Service `<name>-headless` it names.
 */
export function appManifest(env: ClusterEnv, namespace: string, name: string, options: AppOptions): string {
  const sts = options.kind === 'StatefulSet'
  return `
apiVersion: apps/v1
kind: ${options.kind}
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: ${String(options.replicas)}
${sts ? `  serviceName: ${name}-headless\n` : ''}${options.podManagementPolicy ? `  podManagementPolicy: ${options.podManagementPolicy}\n` : ''}  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: ${env.BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: ${POD_COMMAND}
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: http}]
${
  sts
    ? `---
apiVersion: v1
kind: Service
metadata: {name: ${name}-headless, namespace: ${namespace}}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports: [{name: http, port: 8080, targetPort: http}]
`
    : ''
}`
}

/** Applies {@link appManifest} and returns once the workload's pods are all Ready. */
export async function deployApp(
  env: ClusterEnv,
  namespace: string,
  name: string,
  options: AppOptions,
): Promise<void> {
  await kubectl(env, ['apply', '-f', '-'], appManifest(env, namespace, name, options))
  await kubectl(env, [
    '-n',
    namespace,
    'rollout',
    'status',
    `${options.kind.toLowerCase()}/${name}`,
    '--timeout=180s',
  ])
}

/** `spec.replicas` and `status.readyReplicas` of a workload (`deployment/web`), as numbers. */
export async function replicasOf(
  env: ClusterEnv,
  namespace: string,
  workload: string,
): Promise<{ readonly spec: number; readonly ready: number }> {
  const out = await kubectl(env, [
    '-n',
    namespace,
    'get',
    workload,
    '-o',
    'jsonpath={.spec.replicas} {.status.readyReplicas}',
  ])
  const [spec, ready] = out.trim().split(' ')
  return { spec: Number(spec ?? 'NaN'), ready: Number(ready ?? 0) }
}

/** One line a {@link watchLines} watch printed, stamped when it arrived. */
export interface WatchedLine {
  readonly at: number
  readonly line: string
}

/** A `kubectl get --watch` running in the background. */
export interface LineWatch {
  readonly lines: WatchedLine[]
  /** Resolves with the first line (at or after `since`) that `match` accepts. */
  until(match: (line: string) => boolean, since?: number): Promise<WatchedLine>
  stop(): void
}

/**
 * `kubectl get <what> --watch -o jsonpath=<template>`: every change of the objects prints the
 * template again; each printed line is kept with the time it arrived, so a test can time what the
 * cluster did without polling.
 */
export function watchLines(
  env: ClusterEnv,
  namespace: string,
  what: readonly string[],
  template: string,
): LineWatch {
  const child = spawn(
    env.KUBECTL,
    [
      '--kubeconfig',
      env.KUBECONFIG_HOST,
      '-n',
      namespace,
      'get',
      ...what,
      '--watch',
      '-o',
      `jsonpath=${template}`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  const lines: WatchedLine[] = []
  const waiters = new Set<() => void>()
  let partial = ''
  child.stdout.on('data', (chunk: Buffer) => {
    const at = Date.now()
    const parts = (partial + chunk.toString()).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) if (line.trim() !== '') lines.push({ at, line: line.trim() })
    for (const wake of waiters) wake()
  })
  return {
    lines,
    until: (match, since = 0) =>
      new Promise((resolve) => {
        const check = (): void => {
          const found = lines.find((l) => l.at >= since && match(l.line))
          if (found === undefined) return
          waiters.delete(check)
          resolve(found)
        }
        waiters.add(check)
        check()
      }),
    stop: () => {
      child.kill('SIGTERM')
    },
  }
}
