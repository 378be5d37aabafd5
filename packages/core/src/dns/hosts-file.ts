/**
 * Hosts mode: a marked block in the hosts file with the Services of the chosen namespaces, kept
 * current while they change. ktctl's begin/end markers idea, with the session id in them so two
 * sessions never touch each other's block. The file is read, the block replaced and the file
 * atomically replaced, under ktx's lock of the file, so other programs' lines stay byte for byte
 * and two sessions' updates never overwrite each other.
 */
import type { HostChange } from '../host/change.js'
import type { Host } from '../host/host.js'
import { removeBlock } from '../host/undo.js'

/** One hosts line. */
export interface HostsEntry {
  readonly ip: string
  readonly names: readonly string[]
}

/** A Service as hosts mode needs it. */
export interface ServiceAddress {
  readonly name: string
  readonly namespace: string
  /** ClusterIP, or undefined for a headless Service. */
  readonly clusterIP?: string | undefined
  /** Ready endpoint IPs (used for headless Services: the first one answers). */
  readonly endpointIPs: readonly string[]
}

/** The hosts file of `platform`. */
export function defaultHostsPath(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'C:\\Windows\\System32\\drivers\\etc\\hosts' : '/etc/hosts'
}

/** The block's first and last line. */
export function hostsMarkers(session: string): { begin: string; end: string } {
  return { begin: `# ktx hosts begin (session ${session})`, end: `# ktx hosts end (session ${session})` }
}

/**
 * Hosts lines for `services`: `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>` for each, plus the
 * bare `svc` for the first namespace (the one `--namespace` chose). Sorted, so rewrites are stable.
 */
export function hostsEntries(
  services: readonly ServiceAddress[],
  options: { readonly shortNameNamespace: string; readonly clusterDomain: string },
): HostsEntry[] {
  const entries: HostsEntry[] = []
  for (const service of services) {
    const ip = service.clusterIP ?? service.endpointIPs[0]
    if (ip === undefined) continue
    const base = `${service.name}.${service.namespace}`
    entries.push({
      ip,
      names: [
        ...(service.namespace === options.shortNameNamespace ? [service.name] : []),
        base,
        `${base}.svc`,
        `${base}.svc.${options.clusterDomain}`,
      ],
    })
  }
  return entries.sort((a, b) => (a.names.at(-1) ?? '').localeCompare(b.names.at(-1) ?? ''))
}

/** `text` with the session's block replaced by (or appended as) a block of `entries`. */
export function withHostsBlock(text: string, session: string, entries: readonly HostsEntry[]): string {
  const { begin, end } = hostsMarkers(session)
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const without = removeBlock(text, begin, end)
  const base = without === '' || without.endsWith('\n') ? without : `${without}${eol}`
  const lines = [begin, ...entries.map((e) => `${e.ip} ${e.names.join(' ')}`), end]
  return `${base}${lines.join(eol)}${eol}`
}

/**
 * The first write of the block, as a journalled change (undo: remove the block). Later updates
 * go through {@link updateHostsBlock}; the same undo covers them.
 */
export function addHostsBlock(
  host: Host,
  path: string,
  session: string,
  entries: readonly HostsEntry[],
): HostChange {
  const { begin, end } = hostsMarkers(session)
  return {
    description: `hosts block in ${path}`,
    undo: { op: 'remove-block', path, begin, end },
    apply: () => updateHostsBlock(host, path, session, entries),
  }
}

/** Rewrites the session's block with `entries` (nothing is written when it is unchanged). */
export async function updateHostsBlock(
  host: Host,
  path: string,
  session: string,
  entries: readonly HostsEntry[],
): Promise<void> {
  const lock = await host.lockFile(path)
  try {
    const current = (await host.readFile(path))?.toString('utf8') ?? ''
    const next = withHostsBlock(current, session, entries)
    if (next !== current) await host.replaceFile(path, next)
  } finally {
    await lock.close()
  }
}
