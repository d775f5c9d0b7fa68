// The module hooks of scripts/typescript-loader.mjs: synchronous ones for module.registerHooks(),
// asynchronous ones (resolve, load) for module.register(). Both do the same two things.
// Resolving: a relative `./x.js` imported by a .ts file names `./x.ts` when there is no x.js (the
// NodeNext style of lib/ and test/). Loading: a .ts or .mts file is transformed by esbuild into an
// ES module with an inline source map, its lines kept apart (nothing minified): the coverage
// figures are mapped back to the .ts lines and branches, and its `c8 ignore` comments read there.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { transformSync } from 'esbuild'

const TYPESCRIPT = /\.m?ts$/
const { compilerOptions } = JSON.parse(readFileSync(new URL('../tsconfig.json', import.meta.url), 'utf8'))

const isTypescript = (url) => url.startsWith('file:') && TYPESCRIPT.test(new URL(url).pathname)

/** The .ts specifier to try when `specifier` was not found, or undefined when there is none. */
function typescriptSpecifier (specifier, context, error) {
  const fromTypescript = context.parentURL !== undefined && isTypescript(context.parentURL)
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !fromTypescript || !/^\.\.?\/.*\.m?js$/.test(specifier)) return undefined
  return specifier.replace(/js$/, 'ts')
}

/** The ES module esbuild makes of a TypeScript file. */
function transformed (url) {
  const path = fileURLToPath(url)
  const { code } = transformSync(readFileSync(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    sourcefile: path,
    sourcemap: 'inline',
    tsconfigRaw: { compilerOptions }
  })
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
