import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node'

import { AGENT_ENV, AGENT_HEALTH_PATH, AGENT_HEALTH_PORT, AGENT_SSH_PORT } from '../contract.js'
import { type KtxRole, ktxLabels, sessionAnnotations } from './labels.js'

/** A port the agent will listen on for inbound traffic (exchange's remote ports). */
export interface ShadowPort {
  /** The Service's named targetPort this port answers for, so the name resolves on the shadow. */
  readonly name?: string
  readonly containerPort: number
}

/** Everything that decides a shadow pod's manifest. */
export interface ShadowSpec {
  readonly name: string
  readonly namespace: string
  /**
   * The session the pod belongs to (`ktx.dev/session`). Undefined for a pod several sessions share
   * (the mesh router), which no single session's clean-up may delete.
   */
  readonly sessionId: string | undefined
  /** `user@host` for the owner annotation. */
  readonly owner: string
  readonly image: string
  /** The session's public key (OpenSSH form). The private key never goes into the spec. */
  readonly authorizedKey: string
  /** The session Lease(s): deleting the last garbage-collects the pod. */
  readonly ownerReferences?: readonly V1OwnerReference[]
  /** More agent environment (router mode's settings). */
  readonly env?: Readonly<Record<string, string>>
  readonly sshPort?: number
  readonly healthPort?: number
  /** `ktx.dev/role`. Default `shadow`. */
  readonly role?: KtxRole
  /** Extra pod labels (exchange's selector label). ktx's own labels win on a clash. */
  readonly labels?: Readonly<Record<string, string>>
  /** Ports for inbound traffic; declared so named targetPorts resolve to the shadow. */
  readonly ports?: readonly ShadowPort[]
}

// Ports below this need the sysctl below, since the agent runs unprivileged with no capabilities.
const FIRST_UNPRIVILEGED_PORT = 1024

/** Container name of the agent in every ktx pod. */
export const AGENT_CONTAINER = 'agent'

/**
 * Builds the shadow pod manifest (pure). The agent runs as an unprivileged user with every
 * capability dropped, so the pod is admitted in namespaces enforcing the `restricted` Pod Security
 * Standard. `restartPolicy: Never` makes a crashed agent fail the pod at once instead of looping:
 * a restarted agent would have a new host key and no client anyway.
 */
export function buildShadowPod(spec: ShadowSpec): V1Pod {
  const sshPort = spec.sshPort ?? AGENT_SSH_PORT
  const healthPort = spec.healthPort ?? AGENT_HEALTH_PORT
  const inbound = spec.ports ?? []
  // A Service may target a port named "health"; then that name belongs to the inbound port.
  const healthName = inbound.some((p) => p.name === 'health') ? {} : { name: 'health' }
  const lowPorts = inbound.some((p) => p.containerPort < FIRST_UNPRIVILEGED_PORT)
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { ...spec.labels, ...ktxLabels(spec.sessionId, spec.role ?? 'shadow') },
      annotations: sessionAnnotations(spec.owner),
      ...(spec.ownerReferences ? { ownerReferences: [...spec.ownerReferences] } : {}),
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 2,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        seccompProfile: { type: 'RuntimeDefault' },
        // A namespaced, "safe" sysctl (Kubernetes >= 1.22): lets the unprivileged agent bind :80.
        ...(lowPorts ? { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } : {}),
      },
      containers: [
        {
          name: AGENT_CONTAINER,
          image: spec.image,
          imagePullPolicy: 'IfNotPresent',
          env: [
            { name: AGENT_ENV.authorizedKey, value: spec.authorizedKey },
            { name: AGENT_ENV.sshPort, value: String(sshPort) },
            { name: AGENT_ENV.healthPort, value: String(healthPort) },
            ...Object.entries(spec.env ?? {}).map(([name, value]) => ({ name, value })),
          ],
          ports: [
            { ...healthName, containerPort: healthPort, protocol: 'TCP' },
            ...inbound.map((p) => ({
              ...(p.name === undefined ? {} : { name: p.name }),
              containerPort: p.containerPort,
              protocol: 'TCP',
            })),
          ],
          readinessProbe: {
            httpGet: { path: AGENT_HEALTH_PATH, port: healthPort },
            periodSeconds: 1,
            failureThreshold: 3,
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          resources: {
            requests: { cpu: '50m', memory: '64Mi' },
            limits: { memory: '256Mi' },
          },
        },
      ],
    },
  }
}
