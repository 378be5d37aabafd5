/**
 * Reads the runtime a Dockerfile gives its image (entrypoint, cmd, user, workdir, env, exposed
 * ports) the way `docker build` would for the instructions it uses: JSON-form ENTRYPOINT/CMD, an
 * ENTRYPOINT resetting an inherited CMD, `ENV k=v …`, `EXPOSE port[/proto]`. Enough for ktx's own
 * Dockerfile; anything else it does not understand is an error, so a change there cannot slip by.
 */
export interface DockerfileRuntime {
  readonly from: string
  readonly entrypoint: readonly string[] | undefined
  readonly cmd: readonly string[] | undefined
  readonly user: string | undefined
  readonly workdir: string | undefined
  readonly env: Readonly<Record<string, string>>
  readonly exposedPorts: readonly string[]
  /** `[source, destination]` of each COPY. */
  readonly copies: readonly (readonly [string, string])[]
}

export function parseDockerfile(text: string): DockerfileRuntime {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  let from = ''
  let entrypoint: string[] | undefined
  let cmd: string[] | undefined
  let user: string | undefined
  let workdir: string | undefined
  const env: Record<string, string> = {}
  const exposedPorts: string[] = []
  const copies: [string, string][] = []
  for (const line of logical) {
    const space = line.search(/\s/)
    const instruction = line.slice(0, space).toUpperCase()
    const rest = line.slice(space + 1).trim()
    switch (instruction) {
      case 'FROM':
        from = rest
        break
      case 'COPY': {
        const parts = rest.split(/\s+/)
        if (parts.length !== 2) throw new Error(`COPY with ${parts.length} parts: ${line}`)
        copies.push([parts[0]!, parts[1]!])
        break
      }
      case 'USER':
        user = rest
        break
      case 'WORKDIR':
        workdir = rest
        break
      case 'ENV':
        for (const pair of rest.match(/[^\s=]+=("[^"]*"|\S*)/g) ?? []) {
          const eq = pair.indexOf('=')
          env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1')
        }
        break
      case 'EXPOSE':
        for (const port of rest.split(/\s+/)) exposedPorts.push(port.includes('/') ? port : `${port}/tcp`)
        break
      case 'ENTRYPOINT':
        entrypoint = jsonForm(instruction, rest)
        // Docker: setting ENTRYPOINT resets a CMD inherited from the base image.
        cmd = undefined
        break
      case 'CMD':
        cmd = jsonForm(instruction, rest)
        break
      default:
        throw new Error(`parseDockerfile does not know ${instruction}: ${line}`)
    }
  }
  return { from, entrypoint, cmd, user, workdir, env, exposedPorts, copies }
}

function jsonForm(instruction: string, rest: string): string[] {
  const value: unknown = JSON.parse(rest)
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${instruction} must be in JSON (exec) form: ${rest}`)
  }
  return value
}
