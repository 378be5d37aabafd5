// The machine and the versions a result was measured with, for the report's header.
import { readFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

import { run } from './proc.mjs'

const require = createRequire(fileURLToPath(new URL('../../packages/core/package.json', import.meta.url)))

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
  } catch {
    return 'absent'
  }
}

async function firstLine(command, args) {
  const out = await run(command, args)
  return (
    out
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? ''
  )
}

function debianVersion(name) {
  return run('dpkg-query', ['-W', '-f', '${Version}', name]).catch(() => 'unknown')
}

export function loadAverage() {
  return loadavg().map((l) => Math.round(l * 100) / 100)
}

export async function machine(env) {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const ktx = JSON.parse(readFileSync(`${root}/packages/core/package.json`, 'utf8')).version
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    aesHardware: /\baes\b/.test(readFileSync('/proc/cpuinfo', 'utf8')),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: (await run('uname', ['-r'])).trim(),
    shared: 'one 2-core machine shared with 3 other engineers running test suites at the same time',
    versions: {
      ktx,
      commit: (await run('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])).trim(),
      node: process.version,
      ssh2: packageVersion('ssh2'),
      ws: packageVersion('ws'),
      bufferutil: packageVersion('bufferutil'),
      'cpu-features': packageVersion('cpu-features'),
      kubectl: JSON.parse(await run(env.KUBECTL, ['version', '--client', '-o', 'json'])).clientVersion
        .gitVersion,
      tun2socks: await firstLine(env.TUN2SOCKS, ['-version']),
      curl: await firstLine('curl', ['--version']),
      wrk: await debianVersion('wrk'),
      dnsperf: await debianVersion('dnsperf'),
      shadowImage: env.SHADOW_IMAGE,
      testserverImage: env.TESTSERVER_IMAGE,
    },
  }
}
