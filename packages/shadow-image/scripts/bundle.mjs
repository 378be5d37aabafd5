// Bundles the agent into one ESM file (dist/agent.mjs) that runs with a bare `node`.
// ssh2's optional native addons are left out: ssh2 falls back to Node's own crypto without them.
import { build } from 'esbuild'

await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/agent.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  external: ['*.node', 'cpu-features'],
  // Bundled CommonJS (ssh2) uses require() and __dirname; give the ESM bundle real ones.
  banner: {
    js: [
      "import { createRequire as __ktxCreateRequire } from 'node:module';",
      'const require = __ktxCreateRequire(import.meta.url);',
      'const __dirname = import.meta.dirname;',
      'const __filename = import.meta.filename;',
    ].join(' '),
  },
  legalComments: 'linked',
  logLevel: 'warning',
})
