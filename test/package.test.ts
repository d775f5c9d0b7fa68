// The package as published: packed by npm from sources with no dist/ (npm builds it), installed
// from the tarball into a fresh project, used with import and with require(), type-checked as an
// ES and a CommonJS consumer, and checked with publint and arethetypeswrong.
import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { State } from '../lib/index.js'
import { assertAnswer, CONTENT_TYPE, schemaErrors } from './helpers.js'
import { scratchDir } from './servers/common.js'
import { commonjsConsumer, consumerTsconfig, copyConsumerSources, esmConsumer } from './typescript-consumers.js'

// Building, packing and installing take a while: well beyond the default per-file timeout.
t.setTimeout(5 * 60 * 1000)

const execFileAsync = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

// Child processes get neither tap's loaders and coverage nor the npm settings of the npm that
// started tap (its local prefix would point npm at this project): only what locates npm's cache.
const keptNpmSettings = new Set([
  'npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cafile',
  'npm_config_registry', 'npm_config_proxy', 'npm_config_https_proxy', 'npm_config_noproxy', 'npm_config_strict_ssl'
])
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => {
  const lower = key.toLowerCase()
  if (lower.startsWith('npm_')) return keptNpmSettings.has(lower)
  return !['node_options', 'node_v8_coverage', 'init_cwd'].includes(lower) &&
    !lower.startsWith('tap') && !lower.startsWith('_tapjs')
}))

async function run (command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string, stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error })
  }
}

const node = async (script: string, cwd: string): Promise<string> => await run(process.execPath, [script], cwd)

const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as
  { name: string, version: string, files: string[] }
const fastifyVersion = (JSON.parse(await readFile(join(root, 'node_modules/fastify/package.json'), 'utf8')) as
  { version: string }).version

const { path: work, remove } = await scratchDir('package')
t.teardown(remove)
const stage = join(work, 'stage')
const packs = join(work, 'packs')
const consumer = join(work, 'consumer')

let packed: { filename: string, files: Array<{ path: string }> }

t.before(async () => {
  // A copy of the sources as a fresh clone has them: no dist/. `npm pack` must build it itself
  // (the prepack script), as it does for `npm publish` and for installs from a git URL.
  await mkdir(stage)
  const sources = ['package.json', 'lib', 'scripts', 'tsconfig.json', 'tsconfig.build.json',
    ...rootPackage.files.filter((entry) => entry !== 'dist')]
  for (const entry of sources) {
    if (existsSync(join(root, entry))) await cp(join(root, entry), join(stage, entry), { recursive: true })
  }
  await symlink(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir')

  await mkdir(packs)
  packed = (JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', packs], stage)) as Array<typeof packed>)[0]

  await mkdir(consumer)
  await writeFile(join(consumer, 'package.json'), JSON.stringify({
    name: 'fastify-health-consumer',
    version: '1.0.0',
    private: true,
    dependencies: { 'fastify-health': `file:${join(packs, packed.filename)}`, fastify: fastifyVersion }
  }, null, 2))
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], consumer)
})

t.test('the tarball: the CommonJS build, declarations for both module systems, ES entries that load it, and nothing else', async (t) => {
  const paths = packed.files.map((file) => file.path)
  for (const path of [
    'package.json', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts',
    'dist/cjs/require.js', 'dist/cjs/require.d.ts', 'dist/cjs/package.json', 'dist/cjs/command/probe.js',
    'dist/esm/checks/index.js', 'dist/esm/checks/index.d.ts', 'dist/cjs/checks/index.js', 'dist/cjs/checks/index.d.ts',
    'bin/fastify-health-probe.js'
  ]) t.ok(paths.includes(path), path)
  t.strictSame(paths.filter((path) => /^(lib|test|types|scripts|node_modules)\//.test(path)), [], 'no sources or tests')
  t.strictSame(paths.filter((path) => path.endsWith('.map')), [], 'no source maps (they would point at lib/, not shipped)')
  const esmModules = paths.filter((path) => path.startsWith('dist/esm/') && path.endsWith('.js'))
  t.strictSame(esmModules, ['dist/esm/checks/index.js', 'dist/esm/index.js'], 'the only ES modules are the entries the exports map names')
  const installed = join(consumer, 'node_modules/fastify-health')
  t.equal(JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')).version, rootPackage.version)
  t.strictSame(JSON.parse(await readFile(join(installed, 'dist/cjs/package.json'), 'utf8')), { type: 'commonjs' })
})

t.test('publint and arethetypeswrong find no problem in the tarball', async (t) => {
  const tarball = join(packs, packed.filename)
  const lint = await run(process.execPath, [join(root, 'node_modules/publint/src/cli.js'), 'run', tarball, '--strict'], work)
  t.match(lint, /All good/, 'publint: all good')
  const attw = await run(process.execPath, [join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], work)
  const report = JSON.parse(attw) as { analysis: { problems: unknown[] } }
  t.strictSame(report.analysis.problems, [], 'arethetypeswrong: no problem for node10, node16 (CJS and ESM) and bundlers')
})

t.test('import: default and named exports from the ESM build', async (t) => {
  await writeFile(join(consumer, 'esm.mjs'), `
import Fastify from 'fastify'
import fastifyHealth, { State, Status, fastifyHealth as named, createHealthServer } from 'fastify-health'

const out = {
  resolved: import.meta.resolve('fastify-health'),
  sameFunction: named === fastifyHealth,
  states: State,
  statuses: Status,
  createHealthServer: typeof createHealthServer,
  answers: []
}
for (const [name, options] of [['string', 'orders'], ['object', { serviceName: 'orders', version: '7' }]]) {
  const app = Fastify()
  await app.register(fastifyHealth, options)
  app.health.setState(State.WORK)
  const res = await app.inject('/health')
  out.answers.push({ name, statusCode: res.statusCode, contentType: res.headers['content-type'], body: res.json() })
  await app.close()
}
const failing = Fastify()
out.optionError = await failing.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', bogus: 1 }).then(() => null, (e) => e.code)
await failing.close()
process.stdout.write(JSON.stringify(out))
`)
  const out = JSON.parse(await node('esm.mjs', consumer))
  t.match(out.resolved, /\/node_modules\/fastify-health\/dist\/esm\/index\.js$/, 'import resolves to the ESM build')
  t.equal(out.sameFunction, true, 'the default export is the named export')
  t.strictSame(out.states, { WARMUP: 'Warming up', WORK: 'Working', SHUTDOWN: 'Shutting down', NOINFO: 'No information' })
  t.strictSame(out.statuses, { PASS: 'pass', WARN: 'warn', FAIL: 'fail' })
  t.equal(out.createHealthServer, 'function')
  t.equal(out.optionError, 'FST_HEALTH_UNKNOWN_OPTION')
  t.equal(out.answers.length, 2)
  for (const answer of out.answers) {
    t.strictSame(schemaErrors(answer.body), [])
    t.equal(answer.contentType, CONTENT_TYPE, `${answer.name as string}: content type`)
  }
  assertAnswer(t, out.answers[0], State.WORK, { serviceId: 'orders' })
  assertAnswer(t, out.answers[1], State.WORK, { serviceId: 'orders', version: '7' })
})

t.test('require(): the plugin itself, and .fastifyHealth and .default, from the CommonJS build', async (t) => {
  await writeFile(join(consumer, 'cjs.cjs'), `'use strict'
const Fastify = require('fastify')
const fastifyHealth = require('fastify-health')

async function main () {
  const out = {
    resolved: require.resolve('fastify-health'),
    type: typeof fastifyHealth,
    version: require('fastify-health/package.json').version,
    named: fastifyHealth.fastifyHealth === fastifyHealth,
    default: fastifyHealth.default === fastifyHealth,
    working: fastifyHealth.State.WORK,
    answers: []
  }
  const plugins = [['require()', fastifyHealth], ['.fastifyHealth', fastifyHealth.fastifyHealth], ['.default', fastifyHealth.default]]
  for (const [name, plugin] of plugins) {
    const app = Fastify()
    await app.register(plugin, { exposeDetails: true, serviceName: 'orders' })
    app.health.setStateWarmUp()
    const res = await app.inject('/health')
    const head = await app.inject({ method: 'HEAD', url: '/health' })
    out.answers.push({ name, statusCode: res.statusCode, contentType: res.headers['content-type'], body: res.json(), headStatus: head.statusCode })
    await app.close()
  }
  const app = Fastify()
  await app.register(fastifyHealth, 'billing')
  const res = await app.inject('/health')
  out.answers.push({ name: 'string', statusCode: res.statusCode, contentType: res.headers['content-type'], body: res.json(), headStatus: 503 })
  await app.close()
  process.stdout.write(JSON.stringify(out))
}
main().catch((error) => { console.error(error); process.exit(1) })
`)
  const out = JSON.parse(await node('cjs.cjs', consumer))
  t.match(out.resolved, /\/node_modules\/fastify-health\/dist\/cjs\/require\.js$/, 'require resolves to the CommonJS entry')
  t.equal(out.type, 'function', 'require() returns the plugin function itself')
  t.equal(out.version, rootPackage.version)
  t.equal(out.named, true, '.fastifyHealth')
  t.equal(out.default, true, '.default')
  t.equal(out.working, 'Working', 'named exports are on it too')
  t.equal(out.answers.length, 4)
  for (const answer of out.answers.slice(0, 3)) {
    t.equal(answer.contentType, CONTENT_TYPE, `${answer.name as string}: content type`)
    t.equal(answer.headStatus, 202, `${answer.name as string}: HEAD`)
    assertAnswer(t, answer, State.WARMUP, { serviceId: 'orders' })
  }
  assertAnswer(t, out.answers[3], State.NOINFO, { serviceId: 'billing' })
})

t.test('fastify-health/checks: the ready-made checks, for import and require(), loaded only when asked for', async (t) => {
  await writeFile(join(consumer, 'checks.mjs'), `
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { diskCheck, httpCheck, tcpCheck, postgresCheck } from 'fastify-health/checks'

const require = createRequire(import.meta.url)
const loadedChecks = () => Object.keys(require.cache).filter((path) => path.includes('/dist/cjs/checks/'))
const app = Fastify()
await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: 'Working', checks: { 'disk:free': diskCheck(tmpdir()) } })
const res = await app.inject('/health')
const required = require('fastify-health/checks')
let targetError
try { postgresCheck({}) } catch (error) { targetError = error.code }
process.stdout.write(JSON.stringify({
  status: res.json().status,
  disk: res.json().checks['disk:free'][0].componentType,
  same: required.diskCheck === diskCheck && required.httpCheck === httpCheck && typeof tcpCheck === 'function',
  targetError,
  resolved: import.meta.resolve('fastify-health/checks')
}))
await app.close()
`)
  const out = JSON.parse(await node('checks.mjs', consumer))
  t.strictSame(out, {
    status: 'pass', disk: 'system', same: true, targetError: 'FST_HEALTH_INVALID_CHECK_TARGET', resolved: out.resolved
  }, 'a check from the subpath runs in the plugin; import and require() give the same functions')
  t.match(out.resolved, /\/node_modules\/fastify-health\/dist\/esm\/checks\/index\.js$/)
  await writeFile(join(consumer, 'main-only.cjs'), `
const fastifyHealth = require('fastify-health')
process.stdout.write(JSON.stringify({ plugin: typeof fastifyHealth, checks: Object.keys(require.cache).filter((path) => path.includes('/dist/cjs/checks/')) }))
`)
  t.strictSame(JSON.parse(await node('main-only.cjs', consumer)), { plugin: 'function', checks: [] }, 'the main entry loads none of the checks')
})

t.test('import and require() load one copy: a plugin registered by one is seen by the other', async (t) => {
  await writeFile(join(consumer, 'both.mjs'), `
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import imported, { State, errors } from 'fastify-health'

const required = createRequire(import.meta.url)('fastify-health')
const app = Fastify()
await app.register(imported, 'orders')
const out = {
  samePlugin: imported === required,
  sameErrors: errors === required.errors && errors.FST_HEALTH_INVALID_STATE === required.errors.FST_HEALTH_INVALID_STATE,
  sameStates: State === required.State,
  secondRegistration: await app.register(required, 'orders').then(() => null, (e) => e.code)
}
await app.close()
process.stdout.write(JSON.stringify(out))
`)
  const out = JSON.parse(await node('both.mjs', consumer))
  t.equal(out.samePlugin, true, 'the imported plugin is the required one')
  t.equal(out.sameErrors, true, 'one set of error classes: instanceof and codes work across both')
  t.equal(out.sameStates, true, 'one State object')
  t.equal(out.secondRegistration, 'FST_HEALTH_ALREADY_REGISTERED', 'registering the required copy after the imported one is refused')
})

t.test('without the optional peers: nothing breaks, and asking for them fails ready() naming what to install', async (t) => {
  await writeFile(join(consumer, 'peers.mjs'), `
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'

const out = {}
for (const name of ['@opentelemetry/api', 'prom-client']) {
  out[name] = await import(name).then(() => 'installed', () => 'missing')
}
const plain = Fastify()
await plain.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: 'Working' })
out.plain = (await plain.inject('/health')).statusCode
await plain.close()
const registry = { registerMetric () {}, getSingleMetric () {}, removeSingleMetric () {} }
for (const [option, value] of [['openTelemetry', true], ['prometheus', { registry }]]) {
  const app = Fastify()
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', [option]: value })
  out[option] = await app.ready().then(() => null, (e) => ({ code: e.code, message: e.message }))
  await app.close()
}
process.stdout.write(JSON.stringify(out))
`)
  const out = JSON.parse(await node('peers.mjs', consumer))
  t.equal(out['@opentelemetry/api'], 'missing', 'the consumer has no @opentelemetry/api (an optional peer)')
  t.equal(out['prom-client'], 'missing', 'nor prom-client')
  t.equal(out.plain, 200, 'the plugin works without them')
  t.same(out.openTelemetry, {
    code: 'FST_HEALTH_PEER_MISSING',
    message: 'fastify-health: option "openTelemetry" needs the package @opentelemetry/api, which could not be loaded: install it beside fastify-health'
  })
  t.same(out.prometheus, {
    code: 'FST_HEALTH_PEER_MISSING',
    message: 'fastify-health: option "prometheus" needs the package prom-client, which could not be loaded: install it beside fastify-health'
  })
})

t.test('the declarations type-check TypeScript consumers, ES modules and CommonJS', async (t) => {
  // The consumers that typescript-7.test.ts compiles with TypeScript 7: the same sources on both.
  for (const project of [esmConsumer, commonjsConsumer]) await copyConsumerSources(consumer, project)
  await writeFile(join(consumer, 'tsconfig.json'), consumerTsconfig(esmConsumer))
  await writeFile(join(consumer, 'tsconfig.commonjs.json'), consumerTsconfig(commonjsConsumer))
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  // No error: so each @ts-expect-error line met its error (an unused one is an error itself).
  await t.resolves(run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer), 'ES and CommonJS (.cts) consumers: no error')
  await t.resolves(run(process.execPath, [tsc, '-p', 'tsconfig.commonjs.json'], consumer), '"module": "commonjs" consumer: no error')
})
