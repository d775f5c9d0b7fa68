// Builds the package twice from lib/: ES modules in dist/esm and CommonJS in dist/cjs, so that
// both `import` and `require()` work on every Node 20 release (require of ESM needs 20.19+).
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'

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
