// Builds the package twice from lib/: ES modules in dist/esm and CommonJS in dist/cjs, so that
// both `import` and `require()` work on every Node 20 release (require of ESM needs 20.19+).
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' })

rmSync('dist', { recursive: true, force: true })
tsc('tsconfig.build.json')
tsc('tsconfig.cjs.json')
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n')
// `require('fastify-health')` returns the plugin itself, with every named export on it, as
// Fastify's own plugins do: `fastify.register(require('fastify-health'), 'orders')`.
writeFileSync('dist/cjs/require.js', [
  "'use strict'",
  "const lib = require('./index.js')",
  'module.exports = Object.assign(lib.default, lib)',
  ''
].join('\n'))

// The ES module entry re-exports the CommonJS build instead of loading its own copy: an app
// whose code imports the plugin while a dependency requires it gets one plugin and one
// HealthController class (no dual-package hazard), and the ES module loader's per-module
// records for 15 more modules (about 0.35 MiB of heap) are not paid. The .d.ts files of
// dist/esm stay: they describe the same exports.
const names = Object.keys(createRequire(import.meta.url)('../dist/cjs/index.js')).filter((name) => name !== 'default')
rmSync('dist/esm/index.js.map', { force: true })
writeFileSync('dist/esm/index.js', [
  '// The CommonJS build, re-exported: see scripts/build.mjs. Loaded with require(), not import:',
  '// importing CommonJS makes Node 20 parse it for export names, which costs ~4 MiB of RSS.',
  "import { createRequire } from 'node:module'",
  "const lib = createRequire(import.meta.url)('../cjs/index.js')",
  `export const { ${names.join(', ')} } = lib`,
  'export default lib.default',
  ''
].join('\n'))
