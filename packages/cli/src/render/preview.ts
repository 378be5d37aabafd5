import type { PreviewSession } from '@ktx/core'

/** The summary printed once a preview is ready. */
export function renderPreviewReady(
  session: Pick<PreviewSession, 'namespace' | 'service' | 'type' | 'clusterIP' | 'pod' | 'expose'>,
): string[] {
  const clusterIP = session.clusterIP ? `ClusterIP ${session.clusterIP}` : 'ClusterIP'
  const kind = session.type === 'LoadBalancer' ? `LoadBalancer, ${clusterIP}` : clusterIP
  const external =
    session.type === 'LoadBalancer'
      ? [
          `  its external address, once the cloud assigns one: kubectl get service -n ${session.namespace} ${session.service}`,
        ]
      : []
  return [
    `Preview: Service ${session.namespace}/${session.service} (${kind}) is answered by this machine (shadow pod ${session.pod})`,
    ...session.expose.map(
      (m) => `  ${session.service}.${session.namespace}:${m.remote} → localhost:${m.local}`,
    ),
    ...external,
    '',
    'Press Ctrl+C to delete the Service.',
  ]
}
