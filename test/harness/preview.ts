/**
 * What the preview suite needs beyond the exchange harness: `ktx preview` run in the laptop
 * namespace, a busybox `client` pod to call from, and the preview Service as the API has it.
 */
import { type ClusterEnv, kubectl } from './cluster.js'
import type { RunningExchange } from './exchange.js'
import { KTX_BIN, type ProcessResult, spawnInLaptop } from './ktx.js'

/** A `ktx preview` running in the laptop namespace (the same shape as a running exchange). */
export type RunningPreview = RunningExchange

/** Starts `ktx preview <name> …` in the laptop namespace with the laptop kubeconfig. */
export function startKtxPreview(env: ClusterEnv, args: readonly string[]): RunningPreview {
  const child = spawnInLaptop(env, KTX_BIN, ['preview', ...args])
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<ProcessResult>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (stdout.includes('Press Ctrl+C to delete the Service.')) resolve(stdout)
    })
    void exited.then((r) =>
      reject(new Error(`ktx preview exited (${String(r.code)}) before ready:\n${r.stderr}`)),
    )
  })
  ready.catch(() => undefined)
  return { child, ready, exited, output: () => ({ stdout, stderr }) }
}

/** A busybox pod `client` in `namespace` to call Services from; resolves once it is Ready. */
export async function deployClientPod(env: ClusterEnv, namespace: string): Promise<void> {
  await kubectl(
    env,
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${namespace}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: client, image: ${env.BUSYBOX_IMAGE}, imagePullPolicy: IfNotPresent, command: [sleep, '86400']}
`,
  )
  await kubectl(env, ['-n', namespace, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=120s'])
}

/** The parts of a Service a preview test looks at. */
export interface ServiceView {
  readonly metadata: {
    readonly labels?: Record<string, string>
    readonly ownerReferences?: { kind: string; name: string }[]
  }
  readonly spec: {
    readonly type: string
    readonly clusterIP: string
    readonly selector?: Record<string, string>
    readonly ports: { port: number; targetPort: number | string }[]
  }
}

/** The Service as the API server has it, or undefined when there is none. */
export async function serviceOf(
  env: ClusterEnv,
  namespace: string,
  name: string,
): Promise<ServiceView | undefined> {
  const out = await kubectl(env, [
    '-n',
    namespace,
    'get',
    'services',
    '--field-selector',
    `metadata.name=${name}`,
    '-o',
    'json',
  ])
  const list = JSON.parse(out) as { items: ServiceView[] }
  return list.items[0]
}

/** The rights the preview READMEs document, as Role rules. */
export const PREVIEW_RULES = `- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create, get, list, update, delete]
- apiGroups: ['']
  resources: [pods]
  verbs: [create, get, list, watch, delete]
- apiGroups: ['']
  resources: [pods/portforward]
  verbs: [create, get]
- apiGroups: ['']
  resources: [services]
  verbs: [create, get, list, delete]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]`
