// How tap runs the TypeScript tests (.taprc: `node-arg: --import=./scripts/typescript-loader.mjs`,
// in place of tap's ts-node plugin): module hooks hand each .ts file to esbuild, which strips the
// types, and nothing else. ts-node loaded TypeScript's compiler into every test process, which
// took seconds of CPU per file. No type checking here: `npm run typecheck` does that, once.
// The hooks run in this thread where Node has module.registerHooks() (22.15 and later: Node 26
// deprecates module.register()), on Node's hooks thread elsewhere (Node 20).
import module from 'node:module'

if (typeof module.registerHooks === 'function') {
  const { resolveSync, loadSync } = await import('./typescript-hooks.mjs')
  module.registerHooks({ resolve: resolveSync, load: loadSync })
} else {
  module.register('./typescript-hooks.mjs', import.meta.url)
}
