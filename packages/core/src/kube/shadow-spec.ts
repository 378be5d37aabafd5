import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node'

import { AGENT_ENV, AGENT_HEALTH_PATH, AGENT_HEALTH_PORT, AGENT_SSH_PORT } from '../contract.js'
import { sessionAnnotations, sessionLabels } from './labels.js'

/** Everything that decides a shadow pod's manifest. */
export interface ShadowSpec {
  readonly name: string
  readonly namespace: string
  readonly sessionId: string
  /** `user@host` for the owner annotation. */
  readonly owner: string
  readonly image: string
  /** The session's public key (OpenSSH form). The private key never goes into the spec. */
  readonly authorizedKey: string
  /** The session Lease: deleting it garbage-collects the pod. */
  readonly ownerReference?: V1OwnerReference
  readonly sshPort?: number
  readonly healthPort?: number
}

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
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: sessionLabels(spec.sessionId, 'shadow'),
      annotations: sessionAnnotations(spec.owner),
      ...(spec.ownerReference ? { ownerReferences: [spec.ownerReference] } : {}),
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
          ],
          ports: [{ name: 'health', containerPort: healthPort, protocol: 'TCP' }],
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
