// autoChecks against real servers: the clients of @fastify/postgres, @fastify/redis and
// @fastify/mysql (default and named) found on the instance and checked with no code, readiness
// turning 503 within the timeout when a server dies or hangs, and 200 again when it returns.
import fastifyMysql from '@fastify/mysql'
import fastifyPostgres from '@fastify/postgres'
import fastifyRedis from '@fastify/redis'
import type { FastifyInstance } from 'fastify'
import t, { test, type Test } from 'tap'
import fastifyHealth, { type FastifyHealthOptions, type HealthResponse, State } from '../lib/index.js'
import { loggedApp, request, schemaErrors, STACK_FRAME } from './helpers.js'
import { freeze, startSideBySide, thaw, waitFor } from './servers/common.js'
import { startMysql } from './servers/mysql.js'
import { awaitSessionsEnd, startPostgres } from './servers/postgres.js'
import { startRedis } from './servers/redis.js'

// Three real servers start once for the file, side by side; stop() thaws a frozen server itself
// and works while it is down (Redis killed).
t.setTimeout(300_000)
const [postgres, redis, mysql] = await startSideBySide(t, [startPostgres(), startRedis(), startMysql()] as const)

const TIMEOUT = 500
const CACHE_FOR = 200
const secrets = { 'postgres password': postgres.password, 'redis password': redis.password, 'mysql password': mysql.password }

interface Got { statusCode: number, body: HealthResponse, text: string, ms: number }

/** An app with the three datastore plugins, registered after fastify-health, listening. */
async function appWithDatastores (t: Test, health: Partial<FastifyHealthOptions>): Promise<{ app: FastifyInstance, lines: Array<Record<string, unknown>>, get: (path?: string) => Promise<Got> }> {
  awaitSessionsEnd(t, postgres)
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, ...health })
  await app.register(fastifyPostgres, { connectionString: postgres.connectionString })
  await app.register(fastifyPostgres, { ...postgres.config, name: 'analytics' })
  await app.register(fastifyRedis, { host: '127.0.0.1', port: redis.port, password: redis.password, maxRetriesPerRequest: 1 })
  await app.register(fastifyRedis, { url: redis.url, namespace: 'sessions', maxRetriesPerRequest: 1 })
  await app.register(fastifyMysql, { promise: true, connectionString: mysql.connectionString })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const get = async (path = '/health/ready'): Promise<Got> => {
    const started = performance.now()
    const res = await request(base + path)
    t.strictSame(schemaErrors(res.body), [], `${path}: valid by both schemas`)
    t.notMatch(res.text, STACK_FRAME, `${path}: no stack frame`)
    return { statusCode: res.statusCode, body: res.body as HealthResponse, text: res.text, ms: performance.now() - started }
  }
  return { app, lines, get }
}

/** Polls readiness (bounded) until `done` says the answer is the one expected. */
async function readyUntil (get: () => Promise<Got>, what: string, done: (got: Got) => boolean): Promise<Got> {
  return await waitFor(what, async () => {
    const got = await get()
    return done(got) ? got : undefined
  }, 20_000, 50)
}

test('autoChecks: true finds every instance of each plugin and checks it: one check per kind, one entry per instance', async (t) => {
  const { app, lines, get } = await appWithDatastores(t, { autoChecks: { timeout: TIMEOUT, cacheFor: CACHE_FOR } })
  const got = await get()
  t.equal(got.statusCode, 200, 'ready')
  const checks = got.body.checks ?? {}
  t.strictSame(Object.keys(checks), ['postgres:responseTime', 'redis:responseTime', 'mysql:responseTime'])
  const server = (port: number, database?: string): string => `127.0.0.1:${port}${database === undefined ? '' : `/${database}`}`
  t.strictSame(checks['postgres:responseTime']?.map((entry) => entry.componentId),
    [server(postgres.port, postgres.config.database), `analytics (${server(postgres.port, postgres.config.database)})`])
  t.strictSame(checks['redis:responseTime']?.map((entry) => entry.componentId), [server(redis.port), `sessions (${server(redis.port)})`])
  t.strictSame(checks['mysql:responseTime']?.map((entry) => entry.componentId), [server(mysql.port, mysql.config.database)])
  for (const entries of Object.values(checks)) {
    for (const entry of entries) {
      t.match(entry, { componentType: 'datastore', observedUnit: 'ms', status: 'pass' }, `${String(entry.componentId)}: pass`)
      t.ok(typeof entry.observedValue === 'number' && entry.observedValue >= 0, `${String(entry.componentId)}: a round trip in ms`)
    }
  }
  const announced = lines.find((line) => line.msg === 'fastify-health: autoChecks registered')
  t.strictSame(announced?.checks, {
    'postgres:responseTime': ['default', 'analytics'],
    'redis:responseTime': ['default', 'sessions'],
    'mysql:responseTime': ['default']
  }, 'it logs what it registered')

  // PostgreSQL dies: readiness fails within the timeout, the rest keeps passing, the app serves.
  await postgres.halt()
  const down = await readyUntil(get, 'readiness to fail without PostgreSQL', (answer) => answer.statusCode === 503)
  t.ok(down.ms < TIMEOUT + 1000, `answered within the timeout (${Math.round(down.ms)} ms)`)
  const failing = down.body.checks?.['postgres:responseTime'] ?? []
  t.strictSame(failing.map((entry) => entry.status), ['fail', 'fail'], 'both PostgreSQL instances fail')
  t.ok(failing.every((entry) => typeof entry.output === 'string' && !entry.output.includes('\n')), 'each says why, in one line')
  t.strictSame(down.body.checks?.['redis:responseTime']?.map((entry) => entry.status), ['pass', 'pass'], 'Redis still passes')
  t.equal((await app.inject('/health/live')).statusCode, 200, 'the app keeps serving')
  await postgres.start()
  const back = await readyUntil(get, 'readiness to pass with PostgreSQL back', (answer) => answer.statusCode === 200)
  t.strictSame(back.body.checks?.['postgres:responseTime']?.map((entry) => entry.status), ['pass', 'pass'], 'PostgreSQL passes again, no restart of the app')

  // Redis hangs: every answer still comes within the timeout, and readiness comes back.
  await freeze(redis.pid)
  const hung = await readyUntil(get, 'readiness to fail with Redis frozen', (answer) => answer.statusCode === 503)
  t.ok(hung.ms < TIMEOUT + 1000, `answered within the timeout (${Math.round(hung.ms)} ms)`)
  t.match(hung.body.output, /redis:responseTime: fail/, 'the output names the check')
  for (let i = 0; i < 5; i++) {
    const answer = await get()
    t.ok(answer.ms < TIMEOUT + 1000, `a frozen Redis never holds an answer past the timeout (${Math.round(answer.ms)} ms)`)
  }
  await thaw(redis.pid)
  await readyUntil(get, 'readiness to pass with Redis thawed', (answer) => answer.statusCode === 200)

  // And the other way round: Redis dies, PostgreSQL hangs.
  await redis.kill()
  const noRedis = await readyUntil(get, 'readiness to fail without Redis', (answer) => answer.statusCode === 503)
  t.ok(noRedis.ms < TIMEOUT + 1000, `answered within the timeout (${Math.round(noRedis.ms)} ms)`)
  t.strictSame(noRedis.body.checks?.['redis:responseTime']?.map((entry) => entry.status), ['fail', 'fail'], 'both Redis clients fail')
  await redis.start()
  await readyUntil(get, 'readiness to pass with Redis back', (answer) => answer.statusCode === 200)
  await freeze(postgres.pid)
  const hungPostgres = await readyUntil(get, 'readiness to fail with PostgreSQL frozen', (answer) => answer.statusCode === 503)
  t.ok(hungPostgres.ms < TIMEOUT + 1000, `answered within the timeout (${Math.round(hungPostgres.ms)} ms)`)
  t.match(hungPostgres.body.output, /postgres:responseTime: fail/, 'the output names the check')
  await thaw(postgres.pid)
  await readyUntil(get, 'readiness to pass with PostgreSQL thawed', (answer) => answer.statusCode === 200)

  const everything = JSON.stringify(lines) + JSON.stringify(await get('/health'))
  for (const [what, secret] of Object.entries(secrets)) t.notOk(everything.includes(secret), `no ${what} in answers or logs`)
})

test('the options given to autoChecks reach its checks: thresholds and check options', async (t) => {
  const { get } = await appWithDatastores(t, { autoChecks: { warn: 0, critical: false, probes: ['live'] } })
  const health = await get('/health')
  t.equal(health.body.status, 'warn', 'warn: 0 makes every round trip a warning')
  t.ok(Object.values(health.body.checks ?? {}).flat().every((entry) => entry.status === 'warn'), 'each entry warns')
  t.match(health.body.output, /round trip .* at or above the warn threshold of 0 ms/)
  const ready = await get('/health/ready')
  t.equal(ready.body.checks, undefined, 'probes: ["live"] takes them off readiness')
  const live = await get('/health/live')
  t.strictSame(Object.keys(live.body.checks ?? {}), ['postgres:responseTime', 'redis:responseTime', 'mysql:responseTime'], 'and puts them on liveness')
})

test('a check of the app\'s own under the same name stays; nothing is registered without the plugins', async (t) => {
  const own = await appWithDatastores(t, {
    autoChecks: true,
    checks: { 'postgres:responseTime': () => ({ componentType: 'datastore', componentId: 'mine' }) }
  })
  const got = await own.get('/health')
  t.strictSame(got.body.checks?.['postgres:responseTime']?.map((entry) => entry.componentId), ['mine'], 'the app\'s own check')
  t.ok(own.lines.some((line) => line.check === 'postgres:responseTime' && /left a check of the app's own/.test(String(line.msg))), 'logged')

  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'bare', initialState: State.WORK, autoChecks: true })
  await app.ready()
  t.equal((await app.inject('/health')).json().checks, undefined, 'no datastore plugin, no check')
  t.strictSame(lines.find((line) => line.msg === 'fastify-health: autoChecks registered')?.checks, {}, 'and it says so')
})
