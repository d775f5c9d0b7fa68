// TypeScript consumers on TypeScript 7 (the Go compiler, what `npm install typescript` installs
// now): an ES module project ("module": "nodenext", a .mts and a .cts file) and a "module":
// "commonjs" project, each compiled against the package as built from lib/ (its exports map and
// declarations). package.test.ts compiles the same sources with the suite's TypeScript (5.9),
// against the packed tarball. TypeScript 7 is installed once into a folder under the system's
// temporary folder and kept; an install that fails fails the test.
// (The type tests, types/*.tst.ts, stay on 5.9: TSTyche needs TypeScript's JavaScript API,
// which 7.0 does not ship.)
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { scratchDir } from './servers/common.js'
import { type ConsumerProject, commonjsConsumer, consumerTsconfig, copyConsumerSources, esmConsumer } from './typescript-consumers.js'

t.setTimeout(240_000)

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const TYPESCRIPT_7 = '7.0.2'
const INSTALL_TIMEOUT = 240_000
// Not named fastify-health-*: the servers' start-up clears such folders as leftovers of killed runs.
const cache = join(tmpdir(), 'fastify-health.cache', `typescript@${TYPESCRIPT_7}`)

// Child processes get neither tap's loaders nor the settings of the npm that started tap.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => {
  const lower = key.toLowerCase()
  if (lower.startsWith('npm_')) return ['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cafile'].includes(lower)
  return !['node_options', 'node_v8_coverage', 'init_cwd'].includes(lower) && !lower.startsWith('tap') && !lower.startsWith('_tapjs')
}))

/** Runs a command; rejects with its output, which names every compile error. */
async function runIn (cwd: string, command: string, args: string[], timeout = 180_000): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const { stdout, stderr, killed } = error as { stdout?: string, stderr?: string, killed?: boolean }
    throw new Error(`${command} ${args.join(' ')}${killed === true ? ` (no end within ${timeout / 1000} s)` : ''}:\n${stdout ?? ''}\n${stderr ?? ''}`.slice(0, 8000))
  }
}

/**
 * Installs TypeScript 7 into `cache` unless a complete install is there; returns its compiler,
 * the native executable of the platform's package (the `tsc` script only starts it, and is an
 * ES module that tap's require hooks in child processes cannot load).
 */
async function installTypescript7 (): Promise<string> {
  const tsc = join(cache, 'node_modules', '@typescript', `typescript-${process.platform}-${process.arch}`, 'lib', 'tsc')
  if (existsSync(join(cache, 'installed.json'))) return tsc
  // Into a folder of its own, moved into place once complete: a killed install leaves no half.
  await mkdir(dirname(cache), { recursive: true })
  const staging = await mkdtemp(`${cache}-staging-`)
  try {
    await writeFile(join(staging, 'package.json'), JSON.stringify({ name: 'typescript-7', version: '1.0.0', private: true }))
    await runIn(staging, 'npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `typescript@${TYPESCRIPT_7}`], INSTALL_TIMEOUT)
    if (!existsSync(tsc.replace(cache, staging))) throw new Error(`no compiler for ${process.platform}-${process.arch} was installed`)
    await writeFile(join(staging, 'installed.json'), JSON.stringify({ typescript: TYPESCRIPT_7 }))
    await rm(cache, { recursive: true, force: true })
    await rename(staging, cache)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    throw new Error(`Installing typescript@${TYPESCRIPT_7} into ${cache} failed: ${(error as Error).message}`)
  }
  return tsc
}

const scratch = await scratchDir('ts7')
t.teardown(scratch.remove)
const work = scratch.path

const tsc = await installTypescript7()

// The package as it is published: built from lib/ by its own build script in a copy of the
// sources (not the shared dist/, which another run may be rebuilding).
const stage = join(work, 'fastify-health')
t.before(async () => {
  await mkdir(stage)
  for (const entry of ['package.json', 'lib', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'bin']) {
    await cp(join(root, entry), join(stage, entry), { recursive: true })
  }
  await symlink(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir')
  await runIn(stage, process.execPath, [join(stage, 'scripts', 'build.mjs')])
})

/** A consumer project: its sources and tsconfig, fastify-health (the staged build) and fastify in its node_modules. */
async function consumer (name: string, project: ConsumerProject): Promise<string> {
  const dir = join(work, name)
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(stage, join(dir, 'node_modules', 'fastify-health'), 'dir')
  await symlink(join(root, 'node_modules', 'fastify'), join(dir, 'node_modules', 'fastify'), 'dir')
  await copyConsumerSources(dir, project)
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }))
  await writeFile(join(dir, 'tsconfig.json'), consumerTsconfig(project))
  return dir
}

const projects = [
  { name: 'ES modules and .cts ("module": "nodenext")', project: esmConsumer },
  { name: '"module": "commonjs"', project: commonjsConsumer }
]

t.test(`TypeScript ${TYPESCRIPT_7}`, async (t) => {
  t.match(await runIn(work, tsc, ['--version']), `Version ${TYPESCRIPT_7}`, `the compiler is TypeScript ${TYPESCRIPT_7}`)
  // Side by side: each compile is a process of its own.
  await Promise.all(projects.map(async ({ name, project }, index) => {
    const dir = await consumer(`consumer-${index}`, project)
    // No error: so each @ts-expect-error line met its error (an unused one is an error itself).
    await t.resolves(runIn(dir, tsc, ['-p', 'tsconfig.json']), `${name}: no error`)
  }))
})
