import { execFile } from 'node:child_process'

/** Result of one curl run. */
export interface CurlResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs curl with `args` (plus -sS and a max time) and never throws. */
export function curl(
  args: readonly string[],
  options: { maxTimeSeconds?: number; wrap?: readonly string[] } = {},
): Promise<CurlResult> {
  const full = ['curl', '-sS', '-m', String(options.maxTimeSeconds ?? 10), ...args]
  const argv = [...(options.wrap ?? []), ...full]
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}
