// The module hooks of scripts/typescript-loader.mjs: synchronous ones for module.registerHooks(),
// asynchronous ones (resolve, load) for module.register(). Both do the same two things.
// Resolving: a relative `./x.js` imported by a .ts file names `./x.ts` when there is no x.js (the
// NodeNext style of lib/ and test/). Loading: a .ts or .mts file is transformed by esbuild into an
// ES module with an inline source map, its lines kept apart (nothing minified): the coverage
// figures are mapped back to the .ts lines and branches, and its `c8 ignore` comments read there.
// Each result is kept in node_modules/.cache/typescript-loader/, named by a hash of what made it
// (esbuild's version, the options, the file's path and text): every test process loads the same
// sixty-odd files, and transforming them again cost about 0.3 s of CPU a process on Node.js 20
// (esbuild's process, and the hooks thread waiting on it). `npm ci` starts the cache afresh.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import { transformSync, version } from 'esbuild'

const TYPESCRIPT = /\.m?ts$/
const { compilerOptions } = JSON.parse(readFileSync(new URL('../tsconfig.json', import.meta.url), 'utf8'))

const isTypescript = (url) => url.startsWith('file:') && TYPESCRIPT.test(new URL(url).pathname)

/** The .ts specifier to try when `specifier` was not found, or undefined when there is none. */
function typescriptSpecifier (specifier, context, error) {
  const fromTypescript = context.parentURL !== undefined && isTypescript(context.parentURL)
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !fromTypescript || !/^\.\.?\/.*\.m?js$/.test(specifier)) return undefined
  return specifier.replace(/js$/, 'ts')
}

const cache = fileURLToPath(new URL('../node_modules/.cache/typescript-loader/', import.meta.url))

/**
 * Keeps `code` as `file`: written whole under a name of its own, then renamed, so that a process
 * beside this one reads all of it or none of it. A cache that cannot be written (a read-only
 * node_modules) only costs the transform again.
 */
function keep (file, code) {
  const partial = `${file}.${process.pid}.${threadId}`
  try {
    mkdirSync(cache, { recursive: true })
    writeFileSync(partial, code)
    renameSync(partial, file)
  } catch {
    try { rmSync(partial, { force: true }) } catch {}
  }
}

/** The ES module esbuild makes of a TypeScript file: from the cache, or made and kept there. */
function transformed (url) {
  const path = fileURLToPath(url)
  const text = readFileSync(path, 'utf8')
  const options = { loader: 'ts', format: 'esm', sourcefile: path, sourcemap: 'inline', tsconfigRaw: { compilerOptions } }
  const kept = `${cache}${createHash('sha256').update(version).update(JSON.stringify(options)).update(text).digest('hex')}.js`
  let code
  try {
    code = readFileSync(kept, 'utf8')
  } catch {
    code = transformSync(text, options).code
    keep(kept, code)
  }
  return { format: 'module', source: code, shortCircuit: true }
}

export function resolveSync (specifier, context, nextResolve) {
  try {
    return nextResolve(specifier, context)
  } catch (error) {
    const other = typescriptSpecifier(specifier, context, error)
    if (other === undefined) throw error
    return nextResolve(other, context)
  }
}

export const loadSync = (url, context, nextLoad) => isTypescript(url) ? transformed(url) : nextLoad(url, context)

export async function resolve (specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    const other = typescriptSpecifier(specifier, context, error)
    if (other === undefined) throw error
    return await nextResolve(other, context)
  }
}

export const load = async (url, context, nextLoad) => isTypescript(url) ? transformed(url) : await nextLoad(url, context)
