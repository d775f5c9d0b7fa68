// postgresCheck against a real PostgreSQL (test/servers/postgres.ts): every target form up,
// stopped, frozen, killed mid-query and back; the crash an unguarded pool or client causes
// (shown in a child process) and that the check's listener prevents; and no secret in any answer
// or log line. Under load: datastore-loads.test.ts.
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyPostgres from '@fastify/postgres'
import mysql from 'mysql2'
import pg from 'pg'
import t, { type Test } from 'tap'
import { defaults as outage } from '../lib/checks/outage.js'
import { isPostgresTarget, postgresCheck, postgresInstances } from '../lib/checks/postgres.js'
import type { CheckContext, CheckDefinition } from '../lib/index.js'
import { loggedApp } from './helpers.js'
import { freeze, killTree, thaw, waitFor } from './servers/common.js'
import {
  assertFail, assertNoSecrets, assertPass, crashProbe, detail, serveHealth
} from './servers/datastore.js'
import { startPostgres } from './servers/postgres.js'

t.setTimeout(300_000)
const server = await startPostgres()
t.teardown(() => server.stop())

const ID = `127.0.0.1:${server.port}/health`
const SECRETS = { password: server.password, 'user name': server.user, 'connection string': server.connectionString }
const TIMEOUT = 800
// What an answer may take beyond the check's timeout on a shared 2-core machine.
const MARGIN = 1500
const LOG_MESSAGE = /^PostgreSQL connection error/

/** A pool that holds one idle client (the case that crashes an unguarded pool), ended at teardown. */
async function idlePool (t: Test, options: pg.PoolConfig = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({ ...server.config, ...options })
  t.teardown(() => pool.end().catch(() => {}))
  const client = await pool.connect()
  await client.query('SELECT 1')
  client.release()
  return pool
}

/** A connected client, ended at teardown. */
async function connectedClient (t: Test): Promise<pg.Client> {
  const client = new pg.Client(server.config)
  t.teardown(() => client.end().catch(() => {}))
  await client.connect()
  return client
}

/** An app with @fastify/postgres registered: the default instance and the named `replica`. */
async function pgApp (app: FastifyInstance): Promise<FastifyInstance> {
  await app.register(fastifyPostgres, { ...server.config })
  await app.register(fastifyPostgres, { ...server.config, name: 'replica' })
  return app
}

/** TCP sockets open in this process. */
const tcpSockets = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length
const context = (): CheckContext => ({ log: Fastify().log })
const warnLines = (lines: Array<Record<string, unknown>>, check: string): Array<Record<string, unknown>> =>
  lines.filter((line) => line.check === check && typeof line.msg === 'string' && LOG_MESSAGE.test(line.msg))
const backLines = (lines: Array<Record<string, unknown>>, check: string): Array<Record<string, unknown>> =>
  lines.filter((line) => line.check === check && typeof line.msg === 'string' && /reachable again$/.test(line.msg))

t.test('targets and options are checked when the factory is called', async (t) => {
  const pool = new pg.Pool(server.config)
  t.teardown(() => pool.end())
  const notTargets: unknown[] = [undefined, null, 42, server.connectionString, {}, [], { pool: {} }, { query () {} }, pool.connect.bind(pool), mysql.createPool(server.config)]
  for (const target of notTargets) {
    t.throws(() => postgresCheck(target), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' })
    t.notOk(isPostgresTarget(target))
  }
  t.throws(() => postgresCheck(server.connectionString), { message: 'fastify-health: postgresCheck expects a pg Pool, a pg Client or the @fastify/postgres decorator (fastify.pg), got string' })
  const client = new pg.Client(server.config)
  const { app } = loggedApp()
  await pgApp(app)
  t.teardown(() => app.close())
  for (const target of [pool, client, app.pg, app.pg.replica]) t.ok(isPostgresTarget(target))

  const badOptions: Array<[unknown, RegExp]> = [
    ['fast', /option "options" must be an object/],
    [{ log: console }, /option "log" is not an option of this check/],
    [{ timeout: 100 }, /option "timeout" is not an option of this check/],
    [{ warn: -1 }, /option "warn\/fail" sets warn to -1/],
    [{ warn: 50, fail: 10 }, /warn must come before fail/],
    [{ componentId: '' }, /option "componentId" must be a non-empty string/]
  ]
  for (const [options, message] of badOptions) {
    t.throws(() => postgresCheck(pool, options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION', message })
  }
})

t.test('componentId: host:port/database as pg resolves it, never the user or the password', async (t) => {
  // An aborted signal gives the reading without connecting: these servers need not exist.
  const idOf = async (target: unknown, options?: { componentId: string }): Promise<unknown> => {
    const reading = await postgresCheck(target, options).check(AbortSignal.abort(new Error('stopped')), context())
    return (reading as { componentId: unknown }).componentId
  }
  const pools: pg.Pool[] = []
  const lazy = (config: pg.PoolConfig): pg.Pool => { const pool = new pg.Pool(config); pools.push(pool); return pool }
  t.teardown(() => Promise.all(pools.map((pool) => pool.end())))

  t.equal(await idOf(lazy(server.config)), ID)
  t.equal(await idOf(lazy({ connectionString: server.connectionString })), ID)
  t.equal(await idOf(lazy({ connectionString: 'postgres://app:s3cret@[::1]:6543/orders' })), '[::1]:6543/orders')
  t.equal(await idOf(lazy({ connectionString: 'postgres:///orders?host=/run/postgresql' })), '/run/postgresql:5432/orders')
  t.equal(await idOf(lazy({ connectionString: 'no url', host: 'db.internal', port: 7000, database: 'orders' })), 'db.internal:7000/orders')
  t.equal(await idOf(lazy({ connectionString: 'postgres://app:50%off@db.internal/orders' })), 'db.internal:5432/orders', 'a stray % breaks nothing')
  t.equal(await idOf(lazy({ host: 'db.internal', user: 'app' })), 'db.internal:5432', 'pg would use a database named like the user: not shown')
  t.equal(await idOf(lazy({ host: 'db.internal', user: 'app', database: 'app' })), 'db.internal:5432')
  const saved = { PGHOST: process.env.PGHOST, PGPORT: process.env.PGPORT, PGDATABASE: process.env.PGDATABASE }
  t.teardown(() => { for (const [key, value] of Object.entries(saved)) value === undefined ? delete process.env[key] : process.env[key] = value })
  Object.assign(process.env, { PGHOST: 'env.internal', PGPORT: '7777', PGDATABASE: 'inventory' })
  t.equal(await idOf(lazy({})), 'env.internal:7777/inventory', 'the environment, as pg reads it')
  t.equal(await idOf(new pg.Client(server.config)), ID, 'a client: its resolved settings')
  t.equal(await idOf(lazy(server.config), { componentId: 'orders-db' }), 'orders-db', 'the option wins')
  const reading = await postgresCheck(lazy(server.config)).check(AbortSignal.abort(new Error('stopped')), context())
  t.match(reading, { componentType: 'datastore', status: 'fail', output: 'Error: stopped' }, 'an aborted run connects nothing')
  t.equal(pools.at(-1)?.totalCount, 0)
})

t.test('the instances of @fastify/postgres are found as the plugin attaches them', async (t) => {
  const both = await pgApp(Fastify())
  t.teardown(() => both.close())
  await both.ready()
  t.strictSame(postgresInstances(both.pg), [{ name: undefined, target: both.pg }, { name: 'replica', target: both.pg.replica }])

  const named = Fastify()
  t.teardown(() => named.close())
  await named.register(fastifyPostgres, { ...server.config, name: 'a' })
  await named.register(fastifyPostgres, { ...server.config, name: 'b' })
  await named.ready()
  t.strictSame(postgresInstances(named.pg).map(({ name }) => name), ['a', 'b'], 'named only: no default')

  // Named first, then the default: the plugin assigns the default's keys onto the named holder.
  const late = Fastify()
  t.teardown(() => late.close())
  await late.register(fastifyPostgres, { ...server.config, name: 'a' })
  await late.register(fastifyPostgres, { ...server.config })
  await late.ready()
  t.strictSame(postgresInstances(late.pg).map(({ name }) => name), [undefined, 'a'])

  for (const nothing of [undefined, null, 42, {}, { pool: 'x' }]) t.strictSame(postgresInstances(nothing), [])
})

t.test('the crash without the check: an idle pool client, an idle client, a busy pool client', async (t) => {
  t.teardown(server.revive)
  // Plain pg in a child process, no 'error' listener: the server goes away and the child dies.
  const script = `
    import pg from 'pg'
    const config = JSON.parse(process.env.PG_CONFIG)
    if (process.env.KIND === 'client') {
      const client = new pg.Client(config)
      await client.connect()
      await client.query('SELECT 1')
    } else {
      const pool = new pg.Pool(config)
      const client = await pool.connect()
      await client.query('SELECT 1')
      if (process.env.KIND === 'busy') client.query('SELECT pg_sleep(60)').catch(() => {})
      else client.release()
    }
    console.log('ready')
    setInterval(() => {}, 1000)
  `
  for (const kind of ['pool', 'client', 'busy']) {
    const probe = crashProbe(script, { PG_CONFIG: JSON.stringify(server.config), KIND: kind }, process.cwd())
    t.teardown(probe.kill)
    await probe.said('ready')
    // Idle ones: a fast shutdown ends their sessions. Busy: the server is killed outright.
    if (kind === 'busy') {
      await killTree(server.pid)
    }
    await server.halt()
    const ended = await Promise.race([probe.done, sleep(5000, undefined, { ref: false })])
    t.not(ended, undefined, `${kind}: the child died`)
    t.not(ended?.code, 0, `${kind}: with a failure`)
    t.match(ended?.stderr, /Unhandled 'error' event/, `${kind}: of an 'error' event nobody listened to`)
    await server.start()
  }
})

t.test('up: every target form passes, over inject and real HTTP', async (t) => {
  const app = await pgApp(Fastify())
  const pool = new pg.Pool(server.config)
  t.teardown(() => pool.end())
  const client = await connectedClient(t)
  const checks: Record<string, CheckDefinition> = {
    'pool:responseTime': postgresCheck(pool),
    'client:responseTime': postgresCheck(client),
    'pg:responseTime': postgresCheck(app.pg),
    'pg-replica:responseTime': postgresCheck(app.pg.replica)
  }
  const probe = await serveHealth(t, app, checks)
  const before = await server.healthQueries()
  const injected = await probe.inject()
  t.equal(injected.statusCode, 200)
  t.equal(injected.body.status, 'pass')
  for (const name of Object.keys(checks)) assertPass(t, injected, name, ID)
  const after = await server.healthQueries()
  t.ok(after - before >= 4, `the server ran the four SELECT 1 (${after - before})`)

  const fetched = await probe.http('/health/ready')
  t.equal(fetched.statusCode, 200, 'ready over HTTP once the readings are stale')
  for (const name of Object.keys(checks)) assertPass(t, fetched, name, ID)
  for (const answer of [injected, fetched]) assertNoSecrets(t, answer.text, SECRETS, 'a passing answer')
  t.equal(pool.totalCount, 1, 'the pool check used one connection')
  t.equal(pool.idleCount, 1, 'and gave it back')
})

t.test('thresholds: the round trip rated against warn and fail', async (t) => {
  const pool = new pg.Pool(server.config)
  t.teardown(() => pool.end())
  const signal = new AbortController().signal
  t.match(await postgresCheck(pool, { warn: 0 }).check(signal, context()), { status: 'warn', output: /^round trip [\d.]+ ms is at or above the warn threshold of 0 ms$/ })
  t.match(await postgresCheck(pool, { warn: 0, fail: 0 }).check(signal, context()), { status: 'fail', output: /fail threshold of 0 ms/ })
  t.match(await postgresCheck(pool, { warn: 60_000 }).check(signal, context()), { status: 'pass', observedUnit: 'ms' })
})

t.test('stopped: fail in one line, no crash, logged once per outage; back after a restart', async (t) => {
  t.teardown(server.revive)
  const { app, lines } = loggedApp()
  await pgApp(app)
  app.get('/hello', async () => 'hi')
  const pool = await idlePool(t)
  const appErrors: unknown[] = []
  const listened = await idlePool(t)
  listened.on('error', (error) => { appErrors.push(error) })
  const client = await connectedClient(t)
  const early = await idlePool(t)
  const checks: Record<string, CheckDefinition> = {
    'pg:responseTime': { ...postgresCheck(app.pg), timeout: TIMEOUT, cacheFor: 0 },
    'pg-replica:responseTime': { ...postgresCheck(app.pg.replica), timeout: TIMEOUT, cacheFor: 0 },
    'pool:responseTime': { ...postgresCheck(pool), timeout: TIMEOUT, cacheFor: 0 },
    'listened:responseTime': { ...postgresCheck(listened), timeout: TIMEOUT, cacheFor: 0 },
    // A Client cannot reconnect: once its connection is gone it fails for good (not critical here).
    'client:responseTime': { ...postgresCheck(client), timeout: TIMEOUT, cacheFor: 0, critical: false },
    // Counts for /health only: no run before the outage, so its first error waits for one.
    'early:responseTime': { ...postgresCheck(early), timeout: TIMEOUT, cacheFor: 0, probes: ['live'] }
  }
  const probe = await serveHealth(t, app, checks)
  // The @fastify/postgres pools hold an idle client too.
  await app.pg.query('SELECT 1')
  await app.pg.replica.query('SELECT 1')
  const ready = await probe.inject('/health/ready')
  t.equal(ready.statusCode, 200)

  await server.halt()
  await waitFor('the app\'s own listener to get the error', () => appErrors.length > 0, 5000)
  t.match(String(appErrors[0]), /terminating connection|Connection terminated/, 'the app\'s listener still gets the event')
  await waitFor('the idle clients to be dropped', () => pool.totalCount === 0 && early.totalCount === 0, 5000)
  for (let round = 0; round < 3; round++) {
    const answer = round === 1 ? await probe.http() : await probe.inject()
    t.equal(answer.statusCode, 503, 'fail while the server is down')
    t.ok(answer.ms < TIMEOUT + MARGIN, `answered in ${Math.round(answer.ms)} ms`)
    for (const name of Object.keys(checks)) assertFail(t, answer, name, ID)
    assertNoSecrets(t, answer.text, SECRETS, 'the answer')
  }
  t.equal((await app.inject('/hello')).statusCode, 200, 'the app keeps serving')
  for (const name of Object.keys(checks)) t.equal(warnLines(lines, name).length, 1, `${name}: logged once`)
  t.match(warnLines(lines, 'early:responseTime')[0], { level: 40, componentId: ID, error: /terminating connection due to administrator command/ },
    'the error that came before any run, logged on the first run')
  t.match(warnLines(lines, 'pool:responseTime')[0], { error: /terminating connection due to administrator command/ }, 'the idle client\'s error')

  await server.start()
  const back = await probe.inject()
  for (const name of ['pg:responseTime', 'pg-replica:responseTime', 'pool:responseTime', 'listened:responseTime', 'early:responseTime']) {
    assertPass(t, back, name, ID)
  }
  t.match(detail(back, 'client:responseTime').output, /not queryable/, 'the client stays broken: pg clients do not reconnect')
  t.equal(back.statusCode, 202, 'warn: only the non-critical client fails')

  // Regression: a server that flaps (stopped again right after it came back, as one shutting
  // down answers on the connections it has and refuses new ones) was logged again at each flap.
  const recovered = ['pg:responseTime', 'pg-replica:responseTime', 'pool:responseTime', 'listened:responseTime', 'early:responseTime']
  await server.halt()
  for (let round = 0; round < 2; round++) t.equal((await probe.inject()).statusCode, 503, 'down again')
  for (const name of Object.keys(checks)) {
    t.equal(warnLines(lines, name).length, 1, `${name}: a flap is the same outage, not logged again`)
    t.equal(backLines(lines, name).length, 0, `${name}: not back yet`)
  }

  // Back for good: one info line each, once the readings passed for outage.ts's settleMs.
  await server.start()
  await waitFor('a line saying each is reachable again', async () => {
    await probe.inject()
    return recovered.every((name) => backLines(lines, name).length > 0) || undefined
  }, outage.settleMs + 10_000, 100)
  for (const name of recovered) {
    t.equal(backLines(lines, name).length, 1, `${name}: one line saying it is back`)
    t.match(backLines(lines, name)[0], { level: 30, componentId: ID, msg: `fastify-health: PostgreSQL ${ID} reachable again` })
  }
  t.equal(backLines(lines, 'client:responseTime').length, 0, 'the client never passed: no such line')

  // A second outage is logged again, once.
  await server.halt()
  for (let round = 0; round < 2; round++) await probe.inject()
  for (const name of recovered) {
    t.equal(warnLines(lines, name).length, 2, `${name}: one more line for the second outage`)
  }
  t.equal(warnLines(lines, 'client:responseTime').length, 1, 'the client never passed: still the same outage')
  assertNoSecrets(t, JSON.stringify(lines), SECRETS, 'the log')
  await server.start()
})

t.test('frozen: answers within the timeout, one connection at most, nothing piles up; back after thaw', async (t) => {
  const pool = await idlePool(t, { max: 5 })
  const client = await connectedClient(t)
  const timeout = 500
  const app = Fastify()
  const checks: Record<string, CheckDefinition> = {
    'pool:responseTime': { ...postgresCheck(pool), timeout, cacheFor: 0 },
    'client:responseTime': { ...postgresCheck(client), timeout, cacheFor: 0 }
  }
  const probe = await serveHealth(t, app, checks)
  t.equal((await probe.inject()).statusCode, 200)
  const listeners = { pool: pool.listenerCount('error'), client: client.listenerCount('error') }
  t.equal(listeners.pool, 1, 'the check added one listener to the pool')
  postgresCheck(pool)
  postgresCheck(client)
  t.strictSame({ pool: pool.listenerCount('error'), client: client.listenerCount('error') }, listeners, 'more checks of one pool or client: still one listener')
  let acquired = 0
  let removed = 0
  pool.on('acquire', () => { acquired++ })
  pool.on('remove', () => { removed++ })
  const before = await server.healthQueries()

  await freeze(server.pid)
  let thawed = false
  t.teardown(() => thawed ? undefined : thaw(server.pid))
  const most = { total: 0, waiting: 0 }
  for (let round = 0; round < 6; round++) {
    const answer = round % 2 === 0 ? await probe.inject() : await probe.http()
    t.ok(answer.ms < timeout + MARGIN, `frozen: answered in ${Math.round(answer.ms)} ms`)
    t.equal(answer.statusCode, 503)
    // The runner's own reading of a timed-out run: it has no componentId to give.
    for (const name of Object.keys(checks)) t.match(detail(answer, name), { status: 'fail', output: 'Timed out after 500 ms' })
    if (round === 0) await waitFor('the hung client to be destroyed, not kept', () => removed === 1, 2000, 10)
    most.total = Math.max(most.total, pool.totalCount)
    most.waiting = Math.max(most.waiting, pool.waitingCount)
  }
  t.ok(most.total <= 1, `the check never held more than one pool connection (${most.total})`)
  t.equal(most.waiting, 0, 'nor waited for a second one')
  t.ok(acquired <= 1, `one client taken from the pool while frozen (${acquired})`)

  await thaw(server.pid)
  thawed = true
  const thawedAt = performance.now()
  let rounds = 0
  await waitFor('both checks to pass again', async () => {
    rounds++
    return (await probe.inject()).statusCode === 200
  }, 10_000, 100)
  const backIn = performance.now() - thawedAt
  t.ok(backIn < timeout + 2 * MARGIN, `pass again ${Math.round(backIn)} ms after the thaw (cacheFor 0 plus one run)`)
  const ran = (await server.healthQueries()) - before
  // Without single flight, six runs would have queued six queries on the client alone.
  t.ok(ran <= 2 + 2 * rounds, `the server ran ${ran} SELECT 1 for ${rounds} round(s) after the thaw`)
  await waitFor('the destroyed connection\'s session to end', async () => (await server.sessions()) <= pool.totalCount + 1, 10_000, 100)

  await probe.inject()
  const sockets = tcpSockets()
  for (let round = 0; round < 10; round++) await probe.inject()
  t.ok(tcpSockets() <= sockets, `no socket piles up over runs (${sockets} open)`)
  t.strictSame({ pool: pool.listenerCount('error'), client: client.listenerCount('error') }, listeners, 'no listener piles up over runs')
  t.ok(pool.totalCount <= 1, 'one pool connection after many runs')
})

t.test('killed mid-query: the checked-out client\'s error is caught, the reading fails in one line', async (t) => {
  t.teardown(server.revive)
  const pool = await idlePool(t)
  const { app, lines } = loggedApp()
  const timeout = 4000
  const probe = await serveHealth(t, app, { 'pool:responseTime': { ...postgresCheck(pool), timeout, cacheFor: 0 } })
  await freeze(server.pid)
  const pending = probe.inject()
  await waitFor('the check to take the idle client', () => pool.idleCount === 0, 2000, 10)
  await killTree(server.pid)
  const answer = await pending
  t.ok(answer.ms < timeout + MARGIN, `answered in ${Math.round(answer.ms)} ms`)
  t.match(assertFail(t, answer, 'pool:responseTime', ID), /ECONNRESET|Connection terminated/)
  t.equal(warnLines(lines, 'pool:responseTime').length, 1, 'logged once')
  await server.halt()
  await server.start()
  t.equal((await probe.inject()).statusCode, 200, 'back once the server is')
})

t.test('secrets: a wrong password, in the settings or a connection string, shows in no answer and no log line', async (t) => {
  const { app, lines } = loggedApp()
  const wrong = `not-${server.password}`
  const settings = new pg.Pool({ ...server.config, password: wrong })
  const url = `postgres://${server.user}:${wrong}@127.0.0.1:${server.port}/health`
  const viaUrl = new pg.Pool({ connectionString: url })
  t.teardown(() => Promise.all([settings.end(), viaUrl.end()]))
  const probe = await serveHealth(t, app, {
    'settings:responseTime': { ...postgresCheck(settings), timeout: TIMEOUT },
    'url:responseTime': { ...postgresCheck(viaUrl), timeout: TIMEOUT }
  })
  const answer = await probe.http()
  for (const name of ['settings:responseTime', 'url:responseTime']) {
    t.match(assertFail(t, answer, name, ID), /password authentication failed for user "\*\*\*"/)
  }
  const secrets = { ...SECRETS, 'wrong password': wrong, 'URL with it': url }
  assertNoSecrets(t, answer.text, secrets, 'the answer')
  t.equal(warnLines(lines, 'url:responseTime').length, 1)
  assertNoSecrets(t, JSON.stringify(lines), secrets, 'the log')
})
