import type { MeshSession } from '@ktx/core'

/** The summary printed once a mesh is ready: the mark, and a request to paste that carries it. */
export function renderMeshReady(
  session: Pick<
    MeshSession,
    'namespace' | 'service' | 'mode' | 'mark' | 'pod' | 'router' | 'expose' | 'servicePort'
  >,
): string[] {
  const { mark } = session
  const header = `${mark.header}: ${mark.value}`
  if (session.mode === 'manual') {
    return [
      `Meshed (manual): shadow pod ${session.pod} carries the labels of Service ${session.namespace}/${session.service} and ${mark.header.toLowerCase()}=${mark.value}`,
      ...session.expose.map((m) => `  pod port ${m.remote} → localhost:${m.local}`),
      'Route to it with your own mesh rules (Istio/Linkerd) on that label.',
      '',
      'Press Ctrl+C to remove the shadow pod.',
    ]
  }
  return [
    `Meshed: requests to Service ${session.namespace}/${session.service} with header "${header}" come here; all others still reach its pods (router ${session.router ?? ''})`,
    ...session.expose.map((m) => `  pod port ${m.remote} → localhost:${m.local}`),
    `Version mark: ${header}`,
    `Try it from a pod in the cluster: curl -H '${header}' http://${session.service}.${session.namespace}${session.servicePort === undefined || session.servicePort === 80 ? '' : `:${session.servicePort}`}/`,
    '',
    'Press Ctrl+C to stop (the last mesh of the Service puts it back).',
  ]
}
