// autoChecks and where the datastore plugins sit, against a real Redis and a real PostgreSQL:
// registered before fastify-health (found, as when registered after), inside an encapsulated
// child (not found, as the README says: the child's server going away leaves readiness at 200),
// inside the same child as fastify-health (found), and a namespaced client added in a child to
// the root's @fastify/redis decorator (found: the plugin writes it onto the root's object).
// Everything is read through the public HTTP answers.
import fastifyPostgres from '@fastify/postgres'
import fastifyRedis from '@fastify/redis'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import fastifyHealth, { type HealthResponse, State } from '../lib/index.js'
import { loggedApp, request, schemaErrors, STACK_FRAME } from './helpers.js'
import { startSideBySide, waitFor } from './servers/common.js'
import { awaitSessionsEnd, startPostgres } from './servers/postgres.js'
import { startRedis } from './servers/redis.js'

t.setTimeout(120_000)

// Side by side; each one that started is stopped at teardown, whichever failed.
const [redis, postgres] = await startSideBySide(t, [startRedis(), startPostgres()] as const)

const TIMEOUT = 500
const autoChecks = { timeout: TIMEOUT, cacheFor: 100 }
const redisId = `127.0.0.1:${redis.port}`
const postgresId = `127.0.0.1:${postgres.port}/${postgres.config.database}`
const secrets = [redis.password, postgres.password]
const redisOptions = { host: '127.0.0.1', port: redis.port, password: redis.password, maxRetriesPerRequest: 1 }

interface Got { statusCode: number, body: HealthResponse, text: string }

/** Listens, and returns a GET over real HTTP that asserts each answer is valid and holds no stack frame or secret. */
async function listen (t: Test, app: FastifyInstance): Promise<{ base: string, get: (path?: string) => Promise<Got> }> {
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const get = async (path = '/health'): Promise<Got> => {
    const got = await request(base + path)
    t.strictSame(schemaErrors(got.body), [], `${path}: valid by both schemas`)
    t.notMatch(got.text, STACK_FRAME, `${path}: no stack frame`)
    for (const secret of secrets) if (got.text.includes(secret)) t.fail(`${path}: a password in the answer`)
    return { statusCode: got.statusCode, body: got.body as HealthResponse, text: got.text }
  }
  return { base, get }
}

/** What autoChecks logged it registered. */
const announced = (lines: Array<Record<string, unknown>>): unknown =>
  lines.find((line) => line.msg === 'fastify-health: autoChecks registered')?.checks

/** The componentIds and statuses of each check in an answer. */
const entriesOf = (body: HealthResponse): Record<string, Array<[unknown, unknown]>> =>
  Object.fromEntries(Object.entries(body.checks ?? {}).map(([name, list]) => [name, list.map((entry) => [entry.componentId, entry.status])]))

/** Polls readiness (bounded) until it answers `statusCode`. */
const readyAnswers = (get: (path?: string) => Promise<Got>, statusCode: number, what: string): Promise<Got> =>
  waitFor(what, async () => {
    const got = await get('/health/ready')
    return got.statusCode === statusCode ? got : undefined
  }, 15_000, 50)

t.test('datastore plugins registered before fastify-health are found, and their outage fails readiness', async (t) => {
  awaitSessionsEnd(t, postgres)
  const { app, lines } = loggedApp(t)
  await app.register(fastifyRedis, redisOptions)
  await app.register(fastifyPostgres, { connectionString: postgres.connectionString })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, autoChecks })
  const { get } = await listen(t, app)

  const health = await get()
  t.equal(health.statusCode, 200)
  t.strictSame(entriesOf(health.body), {
    'postgres:responseTime': [[postgresId, 'pass']],
    'redis:responseTime': [[redisId, 'pass']]
  }, 'one entry per client, each passing, named by its server')
  t.strictSame(announced(lines), { 'postgres:responseTime': ['default'], 'redis:responseTime': ['default'] }, 'it logs what it registered')

  // The checks really reach the servers: Redis going away fails readiness, its return passes it.
  await redis.kill()
  try {
    const down = await readyAnswers(get, 503, 'readiness to fail without Redis')
    t.strictSame(entriesOf(down.body)['redis:responseTime'], [[redisId, 'fail']], 'the Redis entry fails')
    t.strictSame(entriesOf(down.body)['postgres:responseTime'], [[postgresId, 'pass']], 'PostgreSQL still passes')
  } finally {
    await redis.start()
  }
  await readyAnswers(get, 200, 'readiness to pass with Redis back')
  const logs = JSON.stringify(lines)
  for (const secret of secrets) t.notOk(logs.includes(secret), 'no password in the log lines')
})

t.test('a datastore plugin inside an encapsulated child is not seen, as the README says', async (t) => {
  awaitSessionsEnd(t, postgres)
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, autoChecks })
  await app.register(async (child) => {
    await child.register(fastifyPostgres, { connectionString: postgres.connectionString })
    // Nothing else listens on this pool (no check does): without the app's own listener, the
    // server ending an idle session would crash the process.
    child.pg.pool.on('error', () => {})
    // The child's own route uses its client: the plugin really loaded there.
    child.get('/orders/count', async () => {
      const { rows } = await child.pg.query<{ one: number }>('SELECT 1 AS one')
      return { one: rows[0]?.one }
    })
  })
  const { base, get } = await listen(t, app)

  t.notOk(app.hasDecorator('pg'), 'the root instance has no pg decorator')
  const served = await request(`${base}/orders/count`)
  t.strictSame([served.statusCode, served.body], [200, { one: 1 }], 'the child\'s route reaches PostgreSQL')
  const health = await get()
  t.equal(health.statusCode, 200)
  t.equal(health.body.checks, undefined, 'no check was registered for the child\'s client')
  t.strictSame(announced(lines), {}, 'it logs that it registered nothing')

  // So readiness does not follow the child's server: PostgreSQL down, still 200.
  await postgres.halt()
  try {
    const failing = await request(`${base}/orders/count`)
    t.equal(failing.statusCode, 500, 'the child\'s route fails without PostgreSQL')
    const ready = await get('/health/ready')
    t.equal(ready.statusCode, 200, 'readiness stays 200: the child\'s datastore is not checked')
  } finally {
    await postgres.start()
  }
})

t.test('fastify-health inside the same encapsulated child as the datastore plugin finds it', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(async (child) => {
    await child.register(fastifyRedis, redisOptions)
    await child.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, autoChecks })
  }, { prefix: '/orders' })
  const { get } = await listen(t, app)
  const health = await get('/orders/health')
  t.equal(health.statusCode, 200)
  t.strictSame(entriesOf(health.body), { 'redis:responseTime': [[redisId, 'pass']] }, 'the child\'s Redis client is checked')
  t.strictSame(announced(lines), { 'redis:responseTime': ['default'] })
})

t.test('a namespaced @fastify/redis in a child, when the root has one, lands on the root\'s decorator and is seen', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, autoChecks })
  await app.register(fastifyRedis, redisOptions)
  await app.register(async (child) => {
    // @fastify/redis adds a namespace to the decorator object it finds: the root's.
    await child.register(fastifyRedis, { ...redisOptions, namespace: 'sessions' })
  })
  const { get } = await listen(t, app)
  const health = await get()
  t.equal(health.statusCode, 200)
  t.strictSame(entriesOf(health.body), {
    'redis:responseTime': [[redisId, 'pass'], [`sessions (${redisId})`, 'pass']]
  }, 'both clients are checked: the encapsulation does not hold for a namespace on an inherited decorator')
  t.strictSame(announced(lines), { 'redis:responseTime': ['default', 'sessions'] })
})
