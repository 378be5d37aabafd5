// Bundles the built commands (dist/commands, from tsc) into bundle/commands, which is what oclif
// runs. Loading ktx as ~1,700 separate modules (the Kubernetes client alone is ~830) cost a
// connect about a second and ~40 MB before any cluster call; a few minified chunks cost a
// fraction. Code splitting keeps what a command does not need out of its load: `ktx status`
// never loads the chunk with the Kubernetes client (test/integration/cli-lazy-load.test.ts).
//
// Left as real packages: @oclif/core (bin/run.js and the commands must share one), ssh2, ws and
// bufferutil (they load native addons by paths relative to themselves), and node-fetch (the
// Kubernetes client's HTTP): it calls the deprecated url.parse(), which Node lets pass silently
// only from inside node_modules; bundled, every API call would print DEP0169.
import { globSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = `${root}bundle`
await rm(outdir, { recursive: true, force: true })
const result = await build({
  entryPoints: globSync('dist/commands/**/*.js', { cwd: root })
    .filter((file) => !file.endsWith('.test.js'))
    .map((file) => root + file),
  absWorkingDir: root,
  outbase: `${root}dist`,
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  // Error classes name themselves after their class (KtxError: `this.name = new.target.name`).
  keepNames: true,
  sourcemap: 'linked',
  external: [
    '@oclif/core',
    'ssh2',
    'ws',
    'bufferutil',
    'utf-8-validate',
    'cpu-features',
    '*.node',
    'node-fetch',
  ],
  // Bundled CommonJS uses require() and __dirname; give the ESM chunks real ones.
  banner: {
    js: [
      "import { createRequire as __ktxCreateRequire } from 'node:module';",
      'const require = __ktxCreateRequire(import.meta.url);',
      'const __dirname = import.meta.dirname;',
      'const __filename = import.meta.filename;',
    ].join(' '),
  },
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
})
// Which chunk holds which package: the lazy-load test reads it.
await writeFile(`${outdir}/meta.json`, JSON.stringify(result.metafile))
