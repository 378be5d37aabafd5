/**
 * Node's on-disk compile cache for the CLI: V8 keeps the bytecode of every module ktx loads, so
 * the next run skips parsing and compiling them. Enabled from bin/run.js before anything else
 * loads. Purely an optimisation: whatever goes wrong (no home, a read-only or foreign-owned
 * directory), the command runs as it would without it.
 */
import { enableCompileCache as enableNodeCompileCache } from 'node:module'
import { homedir, userInfo } from 'node:os'
import { isAbsolute, join } from 'node:path'

/** What the directory choice depends on (the real process by default). */
export interface CacheDirContext {
  readonly env: NodeJS.ProcessEnv
  readonly uid: number | undefined
  readonly home: () => string
  /** The home directory of the effective user from the password database (not `$HOME`). */
  readonly accountHome: () => string
}

const processContext: CacheDirContext = {
  env: process.env,
  uid: process.getuid?.(),
  home: homedir,
  accountHome: () => userInfo().homedir,
}

/**
 * `$XDG_CACHE_HOME/ktx/compile-cache`, else `~/.cache/ktx/compile-cache`. Under sudo, root's own
 * cache: sudo may keep the invoking user's `$HOME`, and root-owned files in that user's cache
 * would stay there (unwritable to the user) after the command.
 */
export function compileCacheDir(context: CacheDirContext = processContext): string {
  const { env } = context
  if (context.uid === 0 && env.SUDO_UID !== undefined) {
    return join(context.accountHome(), '.cache', 'ktx', 'compile-cache')
  }
  const xdg = env.XDG_CACHE_HOME
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(context.home(), '.cache')
  return join(base, 'ktx', 'compile-cache')
}

/**
 * Turns the cache on; never throws. Node itself reports an unusable directory as a status rather
 * than an error, and `NODE_DISABLE_COMPILE_CACHE=1` turns it off.
 */
export function enableCompileCache(context: CacheDirContext = processContext): void {
  try {
    enableNodeCompileCache(compileCacheDir(context))
  } catch {
    // No cache this run; nothing the user needs to hear about.
  }
}
