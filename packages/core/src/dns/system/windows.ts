/**
 * Windows: a Name Resolution Policy Table rule per session sends names under the cluster domain,
 * `svc` and the chosen namespaces to ktx's server (on 127.0.0.1:53; NRPT has no port), and the
 * cluster's search suffixes are prepended to the global suffix list. Both are undone by comment
 * and by the recorded original list. Designed and unit-tested only.
 */
import type { Host } from '../../host/host.js'
import type { SystemResolver } from './types.js'

const ps = (script: string): string[] => ['powershell', '-NoProfile', '-NonInteractive', '-Command', script]
const quote = (value: string): string => `'${value.replace(/'/g, "''")}'`

/** The Windows resolver. */
export function windowsResolver(host: Host): SystemResolver {
  const run = async (argv: string[], signal?: AbortSignal): Promise<string> => {
    const [command = '', ...args] = argv
    return (await host.run(command, args, signal ? { signal } : {})).stdout.trim()
  }
  return {
    async plan(options, signal) {
      const servers = jsonList(
        await run(
          ps(
            'Get-DnsClientServerAddress -AddressFamily IPv4 | Select-Object -ExpandProperty ServerAddresses | ConvertTo-Json -Compress',
          ),
          signal,
        ),
      ).filter((ip) => ip !== '127.0.0.1')
      const suffixes = jsonList(
        await run(ps('(Get-DnsClientGlobalSetting).SuffixSearchList | ConvertTo-Json -Compress'), signal),
      )
      const comment = `ktx-${options.session}`
      return {
        kind: 'windows-nrpt',
        upstream: [...new Set(servers)].map((ip) => ({ host: ip, port: 53 })),
        listen: { host: '127.0.0.1', port: 53 },
        changes: (bound) => [
          {
            description: `NRPT rule ${comment} → ktx DNS ${bound.host}`,
            undo: {
              op: 'run',
              argv: ps(
                `Get-DnsClientNrptRule | Where-Object { $_.Comment -eq ${quote(comment)} } | Remove-DnsClientNrptRule -Force`,
              ),
            },
            async apply(s) {
              const namespaces = options.routingDomains.map((d) => quote(`.${d}`)).join(',')
              await run(
                ps(
                  `Add-DnsClientNrptRule -Namespace ${namespaces} -NameServers ${quote(bound.host)} -Comment ${quote(comment)}`,
                ),
                s,
              )
            },
          },
          {
            description: 'DNS suffix search list',
            undo: {
              op: 'run',
              argv: ps(`Set-DnsClientGlobalSetting -SuffixSearchList @(${suffixes.map(quote).join(',')})`),
            },
            async apply(s) {
              const list = [
                ...options.searchDomains,
                ...suffixes.filter((d) => !options.searchDomains.includes(d)),
              ]
              await run(ps(`Set-DnsClientGlobalSetting -SuffixSearchList @(${list.map(quote).join(',')})`), s)
            },
          },
        ],
      }
    },
  }
}

// ConvertTo-Json prints a lone string for one element and nothing for none.
function jsonList(text: string): string[] {
  if (text === '') return []
  const parsed = JSON.parse(text) as unknown
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((v): v is string => typeof v === 'string')
}
