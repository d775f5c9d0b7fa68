// The TypeScript consumer projects that package.test.ts compiles with the suite's TypeScript
// (5.9, against the packed tarball) and typescript-7.test.ts with TypeScript 7 (against the
// package built from lib/): the same sources, test/fixtures/typescript-consumers/<file>.source,
// and the same compiler options on both.
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const fixtures = fileURLToPath(new URL('./fixtures/typescript-consumers/', import.meta.url))

export interface ConsumerProject {
  files: string[]
  options: Record<string, unknown>
}

/** An ES module project (a .mts and a .cts file). */
export const esmConsumer: ConsumerProject = {
  files: ['consumer.mts', 'consumer.cts'],
  options: { module: 'nodenext', moduleResolution: 'nodenext' }
}

/**
 * A CommonJS project. Each compiler picks its module resolution: 5.9 node10 and typesVersions,
 * 7 bundler and the exports map.
 */
export const commonjsConsumer: ConsumerProject = {
  files: ['consumer-commonjs.ts'],
  options: { module: 'commonjs', esModuleInterop: true }
}

/** Copies a project's sources from the fixtures into `dir`. */
export async function copyConsumerSources (dir: string, { files }: ConsumerProject): Promise<void> {
  for (const file of files) await cp(join(fixtures, `${file}.source`), join(dir, file))
}

/**
 * A project's tsconfig.json text: strict, no emit, the package's declarations checked
 * (skipLibCheck off), and @types/node from the suite's.
 */
export function consumerTsconfig ({ files, options }: ConsumerProject): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      typeRoots: [join(root, 'node_modules', '@types')],
      types: ['node'],
      ...options
    },
    files
  }, null, 2)
}
