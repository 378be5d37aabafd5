/**
 * Finding the tun2socks binary (xjasonlyu/tun2socks v2, MIT) and checking its version. Search
 * order: the explicit path (`--tun2socks` / `KTX_TUN2SOCKS`, mapped by the CLI), then `tun2socks`
 * on PATH, then `<stateDir>/bin/tun2socks` (`~/.ktx/bin`). An explicit path that does not work is
 * an error at once: the user asked for that one.
 *
 * TUN mode runs as root, so a binary it finds by itself must be one only root (or, not as root,
 * this user) can change: it and its directories owned by root and not writable by group or others.
 * One that is not is refused, never run. An explicit path is the user's own choice and not checked.
 */
import { join } from 'node:path'

import { HostError, isKtxError, messageOf } from '../../errors.js'
import type { Host } from '../../host/host.js'

/** The version ktx is built and tested against. */
export const TUN2SOCKS_VERSION = '2.6.0'

/** The oldest version whose flags (`-device`, `-proxy`, `-loglevel warn`) ktx relies on. */
export const TUN2SOCKS_MIN_VERSION = '2.5.0'

/** A usable tun2socks. */
export interface Tun2socksBinary {
  readonly path: string
  readonly version: string
}

/** Options of {@link findTun2socks}. */
export interface FindTun2socksOptions {
  /** `--tun2socks` or `KTX_TUN2SOCKS`. */
  readonly explicit?: string | undefined
  /** ktx's state directory (`~/.ktx`); `<stateDir>/bin/tun2socks` is the last place looked. */
  readonly stateDir: string
  readonly signal?: AbortSignal
}

/** How to get tun2socks, in the order the error lists it. */
export function installSuggestions(stateDir: string): string[] {
  const bin = join(stateDir, 'bin')
  return [
    `Install the pinned build: GOBIN=${bin} go install github.com/xjasonlyu/tun2socks/v2@v${TUN2SOCKS_VERSION}`,
    'If your Go module proxy refuses `go install …@version`, build it inside a module that requires ' +
      `github.com/xjasonlyu/tun2socks/v2 v${TUN2SOCKS_VERSION} (ktx's test/cluster/tun2socks-wrapper/README.md shows how).`,
    'Or point ktx at a binary: --tun2socks /path/to/tun2socks, or KTX_TUN2SOCKS=/path/to/tun2socks.',
    'Or use --mode socks, which needs no TUN device and no root.',
  ]
}

/**
 * Locates tun2socks and checks its version (`tun2socks -version` prints `tun2socks-2.6.0`).
 * @throws HostError `KTX_TUN2SOCKS_NOT_FOUND` (listing every place looked and how to install it) or
 *   `KTX_TUN2SOCKS_VERSION` (a binary that is not tun2socks v2 ≥ 2.5.0).
 */
export async function findTun2socks(host: Host, options: FindTun2socksOptions): Promise<Tun2socksBinary> {
  const explicit = options.explicit !== undefined && options.explicit !== ''
  const tried: string[] = []
  const candidates = explicit
    ? [options.explicit ?? '']
    : await foundCandidates(host, options.stateDir, tried)
  for (const path of candidates) {
    if (!explicit) await refuseUntrusted(host, path, options.stateDir)
    let output: string
    try {
      const result = await host.run(path, ['-version'], {
        timeoutMs: 10_000,
        ...(options.signal ? { signal: options.signal } : {}),
      })
      output = `${result.stdout}\n${result.stderr}`
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason
      tried.push(
        isKtxError(error) && error.code === 'KTX_COMMAND_NOT_FOUND'
          ? `${path} (not found)`
          : `${path} (${messageOf(error)})`,
      )
      continue
    }
    const version = /tun2socks-v?(\d+\.\d+\.\d+)/.exec(output)?.[1]
    if (version === undefined || !isSupported(version)) {
      throw new HostError(
        'KTX_TUN2SOCKS_VERSION',
        `${path} is ${version ? `tun2socks ${version}` : 'not tun2socks v2'}; ktx needs tun2socks v2 ` +
          `(${TUN2SOCKS_MIN_VERSION} or later, tested with ${TUN2SOCKS_VERSION})`,
        { suggestions: installSuggestions(options.stateDir), data: { path, version, output: output.trim() } },
      )
    }
    return { path, version }
  }
  throw new HostError(
    'KTX_TUN2SOCKS_NOT_FOUND',
    `tun2socks (xjasonlyu/tun2socks v${TUN2SOCKS_VERSION}) is needed for TUN mode and was not found; looked at: ${tried.join(', ')}`,
    { suggestions: installSuggestions(options.stateDir), data: { tried } },
  )
}

// The binaries that exist, in search order; the places without one go to `tried`.
async function foundCandidates(host: Host, stateDir: string, tried: string[]): Promise<string[]> {
  const exe = host.platform === 'win32' ? 'tun2socks.exe' : 'tun2socks'
  const found: string[] = []
  const onPath = await host.which(exe)
  if (onPath === undefined) tried.push(`${exe} on PATH (not found)`)
  else found.push(onPath)
  const inState = join(stateDir, 'bin', exe)
  try {
    await host.trustProblem(inState)
    found.push(inState)
  } catch {
    tried.push(`${inState} (not found)`)
  }
  return found
}

/** @throws HostError `KTX_TUN2SOCKS_UNTRUSTED` when someone other than root (or you) could change it. */
async function refuseUntrusted(host: Host, path: string, stateDir: string): Promise<void> {
  const problem = await host.trustProblem(path)
  if (problem === undefined) return
  throw new HostError(
    'KTX_TUN2SOCKS_UNTRUSTED',
    `Refusing to run ${path}: ${problem}, so another user could replace what ktx runs${host.isElevated() ? ' as root' : ''}`,
    {
      suggestions: [
        `Make it root's: sudo chown root:root ${path} && sudo chmod 755 ${path} (and the same for a directory named above).`,
        `Or install it where only root writes, e.g. GOBIN=${join(stateDir, 'bin')} go install github.com/xjasonlyu/tun2socks/v2@v${TUN2SOCKS_VERSION} as root.`,
        'Or, if you trust that binary, pass it explicitly: --tun2socks <path> or KTX_TUN2SOCKS=<path>.',
      ],
      data: { path, problem },
    },
  )
}

/** v2, at least {@link TUN2SOCKS_MIN_VERSION}. */
export function isSupported(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number)
  const [minMajor = 0, minMinor = 0, minPatch = 0] = TUN2SOCKS_MIN_VERSION.split('.').map(Number)
  if (major !== minMajor) return false
  if (minor !== minMinor) return minor > minMinor
  return patch >= minPatch
}
