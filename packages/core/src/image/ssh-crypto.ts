/**
 * ssh2's optional native crypto addon (`sshcrypto.node`) for the shadow image. ssh2's install step
 * compiles it where a compiler is present; the agent bundle leaves it out (a bundle cannot hold a
 * native file), so the image build puts it beside the bundle when it loads under the image's Node.
 */
import { createRequire } from 'node:module'

import { HostError } from '../errors.js'
import { runCommand } from '../exec/run.js'

/** What went into the image: the addon's path, or why the agent will use ssh2's JS fallback. */
export type SshCryptoChoice =
  { readonly kind: 'native'; readonly addon: string } | { readonly kind: 'js'; readonly reason: string }

const ADDON_REQUEST = 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node'

/** The addon ssh2's install built next to this installation of ktx, if it did. */
export function installedSshCryptoAddon(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(ADDON_REQUEST)
  } catch {
    return undefined
  }
}

/**
 * Picks the addon: `wanted` (a path; it must load under `node`), `false` (leave it out), or
 * undefined (the installed one, left out with a reason when missing or built for another Node).
 * @throws HostError `KTX_IMAGE_BUNDLE_INVALID` when an addon asked for by path does not load.
 */
export async function chooseSshCrypto(options: {
  readonly node: string
  readonly wanted?: string | false
  readonly installed?: string | undefined
  readonly signal?: AbortSignal
}): Promise<SshCryptoChoice> {
  if (options.wanted === false) return { kind: 'js', reason: 'left out on request' }
  const addon = options.wanted ?? options.installed
  if (addon === undefined) {
    return { kind: 'js', reason: "ssh2's install did not build sshcrypto.node (no compiler at npm install?)" }
  }
  const failure = await loadFailure(options.node, addon, options.signal)
  if (failure === undefined) return { kind: 'native', addon }
  if (options.wanted === undefined) return { kind: 'js', reason: `${addon} does not load: ${failure}` }
  throw new HostError(
    'KTX_IMAGE_BUNDLE_INVALID',
    `${addon} does not load under ${options.node}: ${failure}`,
    {
      suggestions: [
        'Build it for that Node: npm rebuild ssh2 (with that Node on PATH), or leave --sshCrypto out.',
      ],
    },
  )
}

// Loading it is the only honest check: the Node ABI, the architecture and its libraries all count.
async function loadFailure(
  node: string,
  addon: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const run = await runCommand(node, ['-e', 'require(process.argv[1])', addon], {
    check: false,
    env: {},
    timeoutMs: 20_000,
    ...(signal ? { signal } : {}),
  })
  if (run.exitCode === 0) return undefined
  const message = /^Error: (.*)$/m.exec(run.stderr)?.[1] ?? run.stderr.trim().split('\n').pop() ?? ''
  return message.slice(0, 300) || `exit ${run.exitCode}`
}
