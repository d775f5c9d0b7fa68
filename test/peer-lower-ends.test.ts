// The lower ends of what the package says it works with, run for real: Fastify 5.0.0 and
// prom-client 15.0.0 (the bottoms of the peer ranges in package.json) and node-redis: 5.0.0
// works, and 4.0.0 is refused at once by redisCheck (it has neither withAbortSignal nor
// isReady), so the README's "node-redis 4+" does not hold. They are installed once into a folder of their own under the
// system's temporary folder (kept between runs), and loaded from there beside the suite's own
// newer copies: the app is built with Fastify 5.0.0, and the plugin's import of prom-client
// resolves there too (a resolve hook, as in an application that has that version). An install
// that fails fails the test, saying why: these versions are never skipped.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire, register } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { redisCheck } from '../lib/checks/redis.js'
import fastifyHealth, { type CheckDefinition, type HealthResponse, State } from '../lib/index.js'
import { CONTENT_TYPE, gate, parseExposition, request, samplesBy, schemaErrors } from './helpers.js'
import { waitFor } from './servers/common.js'
import { startRedis } from './servers/redis.js'

t.setTimeout(300_000)

/** The versions under test: exact, so that a newer release never stands in for them. */
const PEERS = { fastify: '5.0.0', 'prom-client': '15.0.0', redis: '5.0.0', redis4: 'npm:redis@4.0.0' } as const
const REDIS_4 = '4.0.0'
const INSTALL_TIMEOUT = 240_000
/** The install spec, and the version the package.json must then say (an alias installs another name). */
const spec = (name: string, version: string): string => `${name}@${version}`
const expected = (version: string): string => version.replace(/^npm:[^@]+@/, '')
// Not named fastify-health-*: the servers' start-up clears such folders as leftovers of killed runs.
const cache = join(tmpdir(), 'fastify-health.cache', `peers-${Object.entries(PEERS).map(([name, version]) => spec(name, version)).join('-').replace(/[^\w.@-]/g, '_')}`)
const marker = join(cache, 'installed.json')

// npm gets none of the settings of the npm that started tap (its prefix would be this project),
// only what finds its cache and configuration.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => {
  const lower = key.toLowerCase()
  if (lower.startsWith('npm_')) return ['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cafile'].includes(lower)
  return !['node_options', 'node_v8_coverage', 'init_cwd'].includes(lower) && !lower.startsWith('tap') && !lower.startsWith('_tapjs')
}))

const installedVersion = async (name: string): Promise<string | undefined> =>
  await readFile(join(cache, 'node_modules', name, 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { version: string }).version, () => undefined)

/** Installs PEERS into `cache` unless a complete install is there; throws, saying what failed. */
async function installPeers (): Promise<void> {
  if (existsSync(marker)) return
  // Into a folder of its own, moved into place once complete: a killed install leaves no half.
  await mkdir(dirname(cache), { recursive: true })
  const staging = await mkdtemp(`${cache}-staging-`)
  try {
    await writeFile(join(staging, 'package.json'), JSON.stringify({ name: 'peer-lower-ends', version: '1.0.0', private: true }))
    await promisify(execFile)('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock',
      ...Object.entries(PEERS).map(([name, version]) => spec(name, version))], { cwd: staging, env: npmEnv, timeout: INSTALL_TIMEOUT, maxBuffer: 16 * 1024 * 1024 })
    await writeFile(join(staging, 'installed.json'), JSON.stringify(PEERS))
    await rm(cache, { recursive: true, force: true })
    await rename(staging, cache)
  } catch (error) {
    await rm(staging, { recursive: true, force: true })
    const { stderr, killed } = error as { stderr?: string, killed?: boolean }
    throw new Error(`Installing ${Object.entries(PEERS).map(([name, version]) => spec(name, version)).join(', ')} into ${cache} failed` +
      `${killed === true ? ` (no end within ${INSTALL_TIMEOUT / 1000} s)` : ''}: ${(stderr ?? (error as Error).message).slice(-2000)}`)
  }
}

await installPeers()
for (const [name, version] of Object.entries(PEERS)) {
  if (await installedVersion(name) !== expected(version)) throw new Error(`${cache} holds ${name}@${await installedVersion(name)}, not ${expected(version)}: remove the folder and run again`)
}

// The plugin's own import('prom-client') resolves in the cache from now on.
register(new URL('./fixtures/peer-lower-ends-hooks.mjs', import.meta.url), {
  data: { libURL: new URL('../lib/', import.meta.url).href, packages: ['prom-client'], from: pathToFileURL(join(cache, 'package.json')).href }
})
const fromCache = createRequire(join(cache, 'package.json'))
const Fastify = fromCache('fastify') as (options?: Record<string, unknown>) => FastifyInstance
const promClient = fromCache('prom-client') as typeof import('prom-client')
interface NodeRedis { createClient: (options: { url: string }) => NodeRedisClient }
const nodeRedis = fromCache('redis') as NodeRedis
const nodeRedis4 = fromCache('redis4') as NodeRedis

interface NodeRedisClient {
  connect: () => Promise<unknown>
  quit: () => Promise<unknown>
  disconnect: () => Promise<unknown>
  on: (event: string, listener: (error: unknown) => void) => unknown
}

/** A ready-made check with options, whether the factory returns the check or `{ check, close }`. */
const withOptions = (made: unknown, options: Record<string, unknown>): CheckDefinition =>
  (typeof made === 'function' ? { check: made, ...options } : { ...(made as CheckDefinition), ...options }) as CheckDefinition

/** An app of Fastify 5.0.0 with the plugin, listening on 127.0.0.1, closed at teardown. */
async function lowerEndApp (t: Test, options: Record<string, unknown> = {}, routes: (app: FastifyInstance) => void = () => {}): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true, ...options })
  routes(app)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base }
}

t.test('the versions loaded are the lower ends', async (t) => {
  const { app } = await lowerEndApp(t)
  t.equal(app.version, PEERS.fastify, 'the app runs on Fastify 5.0.0')
  t.equal((fromCache('prom-client/package.json') as { version: string }).version, PEERS['prom-client'])
  t.equal((fromCache('redis/package.json') as { version: string }).version, PEERS.redis)
  t.equal((fromCache('redis4/package.json') as { version: string }).version, REDIS_4)
})

t.test('Fastify 5.0.0: every route over real HTTP, GET and HEAD', async (t) => {
  const { base } = await lowerEndApp(t, { checks: { db: () => ({ componentType: 'datastore', status: 'pass' }) } })
  for (const path of ['/health', '/health/live', '/health/ready', '/health/started', '/health/checks/db']) {
    const got = await request(base + path)
    t.equal(got.statusCode, 200, `GET ${path}`)
    t.equal(got.headers.get('content-type'), CONTENT_TYPE, `GET ${path}: health+json`)
    t.strictSame(schemaErrors(got.body), [], `GET ${path}: valid by both schemas`)
    const head = await request(base + path, 'HEAD')
    t.strictSame([head.statusCode, head.text], [200, ''], `HEAD ${path}`)
  }
  t.match((await request(`${base}/health`)).body, { status: 'pass', checks: { db: [{ status: 'pass' }] } })
})

t.test('Fastify 5.0.0: shutdown() drains: readiness 503 during the delay, a request in flight answered, then closed', async (t) => {
  const held = gate()
  let closeBegan = false
  const { app, base } = await lowerEndApp(t, { shutdownDelay: 500 }, (app) => {
    app.addHook('preClose', async () => { closeBegan = true; held.open() })
    app.get('/slow', async () => { await held.promise; return { ok: true } })
  })
  t.teardown(held.open)
  t.equal((await request(`${base}/health/ready`)).statusCode, 200, 'ready')
  const shutdown = app.health.shutdown()
  const ready = await request(`${base}/health/ready`)
  t.equal(ready.statusCode, 503, 'readiness 503 during the delay')
  t.match(ready.body, { status: 'fail', output: /Shutting down/ })
  t.equal((await request(`${base}/health/live`)).statusCode, 200, 'liveness 200 during the delay')
  // Sent during the delay, answered only once close() has begun.
  const slow = await request(`${base}/slow`)
  t.equal(slow.statusCode, 200, 'the request in flight when close() began was answered 200')
  t.ok(closeBegan, 'it was in flight when close() began')
  await shutdown
  t.notOk(app.server.listening, 'closed')
})

t.test('prom-client 15.0.0: the figures on its Registry, made with its classes, scraped over HTTP', async (t) => {
  const registry = new promClient.Registry()
  let status: 'pass' | 'fail' = 'pass'
  const { base } = await lowerEndApp(t, {
    exposeDetails: true,
    prometheus: { registry },
    checks: { db: { check: () => ({ status }), cacheFor: 0 } }
  }, (app) => {
    app.get('/metrics', async (request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  })
  const metrics = registry.getMetricsAsArray()
  t.ok(metrics.length > 0, 'the plugin registered its figures')
  t.ok(metrics.every((metric) => metric instanceof promClient.Gauge || metric instanceof promClient.Histogram),
    'every one an instance of prom-client 15.0.0\'s own classes (the plugin loaded that version)')
  await request(`${base}/health`)
  const scrape = async (): Promise<ReturnType<typeof parseExposition>> => parseExposition(await (await fetch(`${base}/metrics`)).text())
  const only = (which: string): Record<string, number> => ({ pass: which === 'pass' ? 1 : 0, warn: 0, fail: which === 'fail' ? 1 : 0 })
  t.same(samplesBy(await scrape(), 'health_check_status', { check: 'db' }, 'status'), only('pass'), 'the check passes')
  status = 'fail'
  // Read again by a request or by a background run: either way the figures follow, bounded.
  const failed = await waitFor('the figures to show the failing check', async () => {
    await request(`${base}/health`)
    const samples = await scrape()
    return samplesBy(samples, 'health_check_status', { check: 'db' }, 'status').fail === 1 ? samples : undefined
  }, 10_000, 50).catch(async () => await scrape())
  t.same(samplesBy(failed, 'health_check_status', { check: 'db' }, 'status'), only('fail'), 'and then fails')
  t.same(samplesBy(failed, 'health_status', {}, 'status'), only('fail'), 'and the service with it')
})

t.test('node-redis 5.0.0: redisCheck over a client of its own against a real Redis, down and back', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const client = nodeRedis.createClient({ url: redis.url })
  await client.connect()
  t.teardown(() => client.disconnect().catch(() => {}))
  const { base } = await lowerEndApp(t, { checks: { redis: withOptions(redisCheck(client as never), { timeout: 500, cacheFor: 0 }) } })
  const ready = async (): Promise<{ statusCode: number, body: HealthResponse, text: string }> => {
    const got = await request(`${base}/health/ready`)
    t.strictSame(schemaErrors(got.body), [], 'valid by both schemas')
    return { statusCode: got.statusCode, body: got.body as HealthResponse, text: got.text }
  }
  const up = await ready()
  t.equal(up.statusCode, 200, 'ready')
  t.match(up.body.checks?.redis, [{ componentType: 'datastore', componentId: `127.0.0.1:${redis.port}`, observedUnit: 'ms', status: 'pass' }])
  await redis.kill()
  try {
    const down = await waitFor('readiness to fail without Redis', async () => {
      const got = await ready()
      return got.statusCode === 503 ? got : undefined
    }, 15_000, 50)
    t.match(down.body.checks?.redis, [{ componentId: `127.0.0.1:${redis.port}`, status: 'fail', output: String }])
    t.notOk(down.text.includes(redis.password), 'no password in the answer')
  } finally {
    await redis.start()
  }
  // node-redis reconnects by itself.
  await waitFor('readiness to pass with Redis back', async () => (await ready()).statusCode === 200, 20_000, 100)
  t.pass('ready again once Redis is back, with the same client')
})

t.test('node-redis 4.0.0: redisCheck refuses its client when it is made, naming what it takes', async (t) => {
  // Not connected: refused before any connection matters.
  const client = nodeRedis4.createClient({ url: 'redis://127.0.0.1:9' })
  t.throws(() => redisCheck(client as never), { code: 'FST_HEALTH_INVALID_CHECK_TARGET', message: /a node-redis client/ },
    'an error at start-up, not a check that can never pass')
})
