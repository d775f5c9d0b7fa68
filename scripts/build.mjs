// Builds the package from lib/: the code and its declarations once, as CommonJS in dist/cjs.
// Each ES module entry (dist/esm) is a small file that loads the CommonJS build, and declares
// what it exports by re-exporting the CommonJS declarations: one copy of the plugin and of its
// types for `import` and `require()`, so a program that has both sees one `fastify.health`.
// Runs before `npm pack` and `npm publish` (the prepack script), so a tarball always has dist/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, relative } from 'node:path'

const root = new URL('..', import.meta.url)
process.chdir(new URL('..', import.meta.url).pathname)
const tsc = (project) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' })

rmSync('dist', { recursive: true, force: true })
tsc('tsconfig.build.json')
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n')

// `require('fastify-health')` returns the plugin itself, with every named export on it, as
// Fastify's own plugins do: `fastify.register(require('fastify-health'), 'orders')`. Its
// declarations say the same: a function merged with a namespace of the named exports.
writeFileSync('dist/cjs/require.js', [
  "'use strict'",
  "const lib = require('./index.js')",
  'module.exports = Object.assign(lib.default, lib)',
  ''
].join('\n'))
writeFileSync('dist/cjs/require.d.ts', requireDeclarations('dist/cjs/index.d.ts'))

// The ES module entries. They load the CommonJS build with require(), not import: importing
// CommonJS makes Node parse it for export names, which costs memory for nothing.
const entries = JSON.parse(readFileSync('package.json', 'utf8')).exports
for (const entry of Object.values(entries)) {
  if (typeof entry === 'string') continue
  const esm = entry.import.default
  const cjs = entry.require.default.replace(/require\.js$/, 'index.js')
  const lib = createRequire(new URL(esm, root))(relative(dirname(esm), cjs).replace(/^(?!\.)/, './'))
  const names = Object.keys(lib).filter((name) => name !== 'default')
  mkdirSync(dirname(esm), { recursive: true })
  writeFileSync(esm, [
    '// The CommonJS build, re-exported (see scripts/build.mjs).',
    "import { createRequire } from 'node:module'",
    `const lib = createRequire(import.meta.url)('${relative(dirname(esm), cjs).replace(/^(?!\.)/, './')}')`,
    `export const { ${names.join(', ')} } = lib`,
    ...('default' in lib ? ['export default lib.default'] : []),
    ''
  ].join('\n'))
  const declarations = relative(dirname(esm), cjs).replace(/^(?!\.)/, './')
  writeFileSync(esm.replace(/\.js$/, '.d.ts'), [
    `export * from '${declarations}'`,
    ...('default' in lib ? [`import { fastifyHealth } from '${declarations}'`, 'export default fastifyHealth'] : []),
    ''
  ].join('\n'))
}

/**
 * The declarations of the CommonJS entry: `export =` of the plugin merged with a namespace that
 * re-exports every name of the built index, so that `import x = require('fastify-health')` gives
 * the plugin with `x.State`, `x.errors`, `x.default` and the types, as `require()` does.
 */
function requireDeclarations (index) {
  const ts = createRequire(import.meta.url)('typescript')
  const program = ts.createProgram([index], { noEmit: true, skipLibCheck: true })
  const checker = program.getTypeChecker()
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)))
    .filter((symbol) => symbol.getName() !== 'default')
  // `export type { X }` names a type only, which an import alias may not reference.
  const typeOnly = (symbol) => (symbol.declarations ?? []).some((declaration) =>
    ts.isExportSpecifier(declaration) && (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly))
  const lines = exported.map((symbol) => {
    const name = symbol.getName()
    if (!typeOnly(symbol) && (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol).flags & ts.SymbolFlags.Value) return `  export import ${name} = lib.${name}`
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
    const parameters = target.declarations?.[0]?.typeParameters ?? []
    if (parameters.length === 0) return `  export type ${name} = lib.${name}`
    const list = parameters.map((parameter) => parameter.getText()).join(', ')
    const names = parameters.map((parameter) => parameter.name.getText()).join(', ')
    return `  export type ${name}<${list}> = lib.${name}<${names}>`
  })
  return [
    "import * as lib from './index.js'",
    'type Plugin = typeof lib.fastifyHealth',
    'declare function fastifyHealth (...params: Parameters<Plugin>): ReturnType<Plugin>',
    'declare namespace fastifyHealth {',
    ...lines,
    '  export { fastifyHealth as default }',
    '}',
    'export = fastifyHealth',
    ''
  ].join('\n')
}
