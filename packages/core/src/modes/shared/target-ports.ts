import type { V1PodSpec, V1Service } from '@kubernetes/client-node'

import { UsageError } from '../../errors.js'
import type { ShadowPort } from '../../kube/shadow-spec.js'
import type { PortMapping } from './expose.js'

/** One port of a Service and where it sends traffic in the pods. */
export interface TargetPort {
  /** The Service port (what callers dial). */
  readonly port: number
  readonly portName: string | undefined
  /** `targetPort` as written: a number, or a container port name. */
  readonly target: number | string
  /** The container port it means; undefined for a name no container declares. */
  readonly resolved: number | undefined
}

/** What the shadow pod must declare, and which Service ports stay unanswered. */
export interface ExposePlan {
  readonly shadowPorts: readonly ShadowPort[]
  readonly unexposed: readonly TargetPort[]
}

/**
 * The TCP ports of a Service with their target ports resolved; named target ports are looked up
 * in `podSpec` (the workload's pod template, or a running pod) as the cluster would (pure).
 */
export function targetPortsOf(service: V1Service, podSpec: V1PodSpec | undefined): TargetPort[] {
  const containerPorts = (podSpec?.containers ?? []).flatMap((c) => c.ports ?? [])
  return (service.spec?.ports ?? [])
    .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
    .map((p) => {
      const target = p.targetPort ?? p.port
      const resolved =
        typeof target === 'number'
          ? target
          : /^\d+$/.test(target)
            ? Number(target)
            : containerPorts.find((c) => c.name === target && (c.protocol ?? 'TCP') === 'TCP')?.containerPort
      return { port: p.port, portName: p.name, target, resolved }
    })
}

/**
 * Checks each remote port against the Service's target ports and plans the shadow pod's ports: a
 * named target port is declared under the same name, so the Service resolves it on the shadow too.
 * @throws UsageError naming the bad port and listing the valid ones.
 */
export function planExpose(
  service: string,
  mappings: readonly PortMapping[],
  targets: readonly TargetPort[],
): ExposePlan {
  const valid = new Set(targets.flatMap((t) => (t.resolved === undefined ? [] : [t.resolved])))
  for (const { remote } of mappings) {
    if (valid.has(remote)) continue
    throw new UsageError(`Port ${remote} is not a target port of Service "${service}"`, {
      code: 'KTX_EXPOSE_INVALID',
      suggestions: [
        targets.length === 0
          ? `Service "${service}" has no TCP ports.`
          : `Its target ports: ${targets.map(describeTarget).join('; ')}`,
        'The remote side of --expose is the port the pods listen on (targetPort), not the Service port.',
      ],
      data: { port: remote, targetPorts: [...valid] },
    })
  }
  const exposed = new Set(mappings.map((m) => m.remote))
  const shadowPorts: ShadowPort[] = []
  const declared = new Set<string>()
  for (const remote of exposed) {
    const names = targets.filter((t) => t.resolved === remote && isName(t.target))
    if (names.length === 0) {
      shadowPorts.push({ containerPort: remote })
      continue
    }
    for (const t of names) {
      const name = String(t.target)
      if (declared.has(name)) continue
      declared.add(name)
      shadowPorts.push({ name, containerPort: remote })
    }
  }
  return {
    shadowPorts,
    unexposed: targets.filter((t) => t.resolved === undefined || !exposed.has(t.resolved)),
  }
}

/** `8080 "http" (Service port 80 "web")` for messages. */
export function describeTarget(t: TargetPort): string {
  const service = `Service port ${t.port}${t.portName ? ` "${t.portName}"` : ''}`
  if (t.resolved === undefined) return `"${String(t.target)}" (${service}; no container declares it)`
  const named = isName(t.target) ? ` "${String(t.target)}"` : ''
  return `${t.resolved}${named} (${service})`
}

function isName(target: number | string): boolean {
  return typeof target === 'string' && !/^\d+$/.test(target)
}
