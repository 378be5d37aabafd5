// Mesh: Service `web` meshed with `ktx mesh web --versionMark <mark>` (auto mode: the router pod
// in front of the Service). From the client pod, keep-alive GETs with the header `VERSION: <mark>`
// (router → shadow → SSH → the laptop's testserver) and without it (router → stuntman Service →
// the real pod `web`), against Service `base` of a normal pod; the same requests and rows as the
// exchange scenario (exchange.mjs). bench/mesh-latency.sh breaks the unmarked path down further
// (pod IP, stuntman Service) in a namespace of its own.
import { NORMAL_POD, podClientLatency, waitRouted } from './exchange.mjs'

export const MESH_MARK = 'bench'

export function meshArms(laptopName) {
  return [
    NORMAL_POD,
    { name: 'Service web through the mesh router, no mark (→ pod web)', url: 'http://web/', servedBy: 'web' },
    {
      name: `Service web with VERSION: ${MESH_MARK} (→ the laptop via ktx mesh)`,
      url: 'http://web/',
      servedBy: laptopName,
      header: `VERSION: ${MESH_MARK}`,
    },
  ]
}

export async function meshLatency({ env, namespace, rounds, laptopName }) {
  const arms = meshArms(laptopName)
  await waitRouted(env, namespace, arms)
  return podClientLatency({ env, namespace, rounds, arms, scenario: 'mesh' })
}
