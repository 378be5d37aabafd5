/**
 * macOS: one file per domain in `/etc/resolver/` (`nameserver 127.0.0.1`, `port <port>`), so only
 * names under the cluster domain, `svc` and the chosen namespaces reach ktx; everything else is
 * untouched. Short single-label names are not routed by scoped resolvers; use `svc.ns` or the
 * hosts mode for those. Designed and unit-tested only; the e2e suite runs on Linux.
 */
import { HostError } from '../../errors.js'
import type { HostChange } from '../../host/change.js'
import type { Host } from '../../host/host.js'
import { parseResolvConf } from './linux.js'
import type { SystemResolver } from './types.js'
import { generatedMarker } from './marker.js'

const RESOLVER_DIR = '/etc/resolver'

/** The macOS resolver. */
export function darwinResolver(host: Host): SystemResolver {
  return {
    async plan(options) {
      // On macOS /etc/resolv.conf is generated from the primary service's DNS settings.
      const current = await host.readFile('/etc/resolv.conf')
      const upstream = current ? parseResolvConf(current.toString('utf8')).nameservers : []
      return {
        kind: 'macos-resolver',
        upstream: upstream.map((ns) => ({ host: ns, port: 53 })),
        listen: { host: options.listenHost ?? '127.0.0.1', port: 0 },
        changes: (bound) =>
          options.routingDomains.map((domain): HostChange => {
            const path = `${RESOLVER_DIR}/${domain}`
            const written = `${generatedMarker(options.session)}\nnameserver ${bound.host}\nport ${bound.port}\n`
            return {
              description: `${path} → ktx DNS ${bound.host}:${bound.port}`,
              undo: { op: 'remove-file', path, written: Buffer.from(written).toString('base64') },
              async apply() {
                if (await host.readFile(path)) {
                  throw new HostError(
                    'KTX_DNS_UPSTREAM_UNKNOWN',
                    `${path} exists already; ktx will not overwrite another program's resolver`,
                    {
                      suggestions: [
                        `Remove ${path} if nothing needs it, or run \`ktx clean\` if a crashed session left it.`,
                      ],
                    },
                  )
                }
                await host.writeNewFile(path, written)
              },
            }
          }),
      }
    },
  }
}
