// mysqlCheck against a real MariaDB (test/servers/mysql.ts): every target form (callback and
// promise pools and connections, @fastify/mysql default and named) up, stopped, frozen, killed
// mid-query and back; the crash an unguarded connection causes (shown in a child process) and
// that the check's listener prevents; and no secret in any answer or log line. Under load:
// datastore-loads.test.ts.
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyMysql from '@fastify/mysql'
import mysql from 'mysql2'
import mysqlPromise from 'mysql2/promise'
import pg from 'pg'
import t, { type Test } from 'tap'
import { isMysqlTarget, mysqlCheck, mysqlInstances } from '../lib/checks/mysql.js'
import { defaults as outage } from '../lib/checks/outage.js'
import type { CheckContext, CheckDefinition } from '../lib/index.js'
import { loggedApp } from './helpers.js'
import { freeze, killTree, thaw, waitFor } from './servers/common.js'
import {
  assertFail, assertNoSecrets, assertPass, crashProbe, detail, serveHealth
} from './servers/datastore.js'
import { connectionsOf, startMysql } from './servers/mysql.js'

t.setTimeout(300_000)
const server = await startMysql()
t.teardown(() => server.stop())

const ID = `127.0.0.1:${server.port}/health`
const SECRETS = { password: server.password, 'user name': server.user, 'connection string': server.connectionString }
const TIMEOUT = 800
// What an answer may take beyond the check's timeout on a shared 2-core machine.
const MARGIN = 1500
const LOG_MESSAGE = /^MySQL connection error/

type Decorated = FastifyInstance & { mysql: Record<string, unknown> }

/** A callback pool that holds one idle connection, ended at teardown. */
async function idlePool (t: Test, options: mysql.PoolOptions = {}): Promise<mysql.Pool> {
  const pool = mysql.createPool({ ...server.config, ...options })
  t.teardown(() => new Promise<void>((resolve) => pool.end(() => resolve())))
  await pool.promise().query('SELECT 1')
  return pool
}

/** A connected callback connection, ended (or destroyed) at teardown. */
async function connection (t: Test): Promise<mysql.Connection> {
  const connection = mysql.createConnection(server.config)
  t.teardown(() => connection.destroy())
  await connection.promise().query('SELECT 1')
  return connection
}

/** An app with @fastify/mysql: the default pool, and named promise pool, connection and promise connection. */
async function mysqlApp (app: FastifyInstance): Promise<Decorated> {
  await app.register(fastifyMysql, { ...server.config })
  await app.register(fastifyMysql, { ...server.config, name: 'replica', promise: true })
  await app.register(fastifyMysql, { ...server.config, name: 'single', type: 'connection' })
  await app.register(fastifyMysql, { ...server.config, name: 'singlePromise', type: 'connection', promise: true })
  return app as Decorated
}

/** TCP sockets open in this process. */
const tcpSockets = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length
const context = (): CheckContext => ({ log: Fastify().log })
const warnLines = (lines: Array<Record<string, unknown>>, check: string): Array<Record<string, unknown>> =>
  lines.filter((line) => line.check === check && typeof line.msg === 'string' && LOG_MESSAGE.test(line.msg))
const backLines = (lines: Array<Record<string, unknown>>, check: string): Array<Record<string, unknown>> =>
  lines.filter((line) => line.check === check && typeof line.msg === 'string' && /reachable again$/.test(line.msg))

t.test('targets and options are checked when the factory is called', async (t) => {
  const pool = mysql.createPool(server.config)
  const promisePool = mysqlPromise.createPool(server.config)
  const pgPool = new pg.Pool(server.config)
  t.teardown(async () => { pool.end(); await promisePool.end(); await pgPool.end() })
  const notTargets: unknown[] = [undefined, null, 42, server.connectionString, {}, [], { pool: {} }, { connection: { pool: { pool } } }, { query () {} }, pgPool]
  for (const target of notTargets) {
    t.throws(() => mysqlCheck(target), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' })
    t.notOk(isMysqlTarget(target))
  }
  t.throws(() => mysqlCheck(server.connectionString), {
    message: 'fastify-health: mysqlCheck expects a mysql2 Pool or Connection (callback or promise API) or the @fastify/mysql decorator (fastify.mysql), got string'
  })
  const single = await connection(t)
  const app = await mysqlApp(Fastify())
  t.teardown(() => app.close())
  for (const target of [pool, promisePool, single, single.promise(), app.mysql, app.mysql.replica, app.mysql.single, app.mysql.singlePromise]) {
    t.ok(isMysqlTarget(target))
  }

  const badOptions: Array<[unknown, RegExp]> = [
    ['fast', /option "options" must be an object/],
    [{ log: console }, /option "log" is not an option of this check/],
    [{ timeout: 100 }, /option "timeout" is not an option of this check/],
    [{ fail: -1 }, /option "warn\/fail" sets fail to -1/],
    [{ warn: 50, fail: 10 }, /warn must come before fail/],
    [{ componentId: 7 }, /option "componentId" must be a non-empty string/]
  ]
  for (const [options, message] of badOptions) {
    t.throws(() => mysqlCheck(pool, options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION', message })
  }
})

t.test('componentId: host:port/database (or the socket), never the user or the password', async (t) => {
  // An aborted signal gives the reading without connecting: these servers need not exist.
  const idOf = async (target: unknown, options?: { componentId: string }): Promise<unknown> => {
    const reading = await mysqlCheck(target, options).check(AbortSignal.abort(new Error('stopped')), context())
    return (reading as { componentId: unknown }).componentId
  }
  const pools: mysql.Pool[] = []
  const lazy = (config: mysql.PoolOptions | string): mysql.Pool => {
    const pool = mysql.createPool(config as mysql.PoolOptions)
    pools.push(pool)
    return pool
  }
  t.teardown(() => { for (const pool of pools) pool.end() })

  t.equal(await idOf(lazy(server.config)), ID)
  t.equal(await idOf(lazy(server.connectionString)), ID, 'a connection string, as mysql2 parses it')
  t.equal(await idOf(lazy(server.config).promise()), ID, 'a promise pool')
  t.equal(await idOf(lazy({ socketPath: '/run/mysqld/mysqld.sock', database: 'orders' })), '/run/mysqld/mysqld.sock/orders')
  t.equal(await idOf(lazy({ host: 'db.internal', user: 'app' })), 'db.internal:3306')
  const single = await connection(t)
  t.equal(await idOf(single), ID, 'a connection')
  t.equal(await idOf(single.promise()), ID, 'a promise connection')
  t.equal(await idOf(lazy(server.config), { componentId: 'orders-db' }), 'orders-db', 'the option wins')
  const reading = await mysqlCheck(single).check(AbortSignal.abort(new Error('stopped')), context())
  t.match(reading, { componentType: 'datastore', status: 'fail', output: 'Error: stopped' }, 'an aborted run queries nothing')
})

t.test('the instances of @fastify/mysql are found as the plugin attaches them', async (t) => {
  const app = await mysqlApp(Fastify())
  t.teardown(() => app.close())
  await app.ready()
  t.strictSame(mysqlInstances(app.mysql), [
    { name: undefined, target: app.mysql },
    { name: 'replica', target: app.mysql.replica },
    { name: 'single', target: app.mysql.single },
    { name: 'singlePromise', target: app.mysql.singlePromise }
  ])
  // Named only: the plugin puts them on an empty object.
  const named = Fastify()
  t.teardown(() => named.close())
  await named.register(fastifyMysql, { ...server.config, name: 'a' })
  await named.register(fastifyMysql, { ...server.config, name: 'b', promise: true })
  await named.ready()
  t.strictSame(mysqlInstances((named as unknown as Decorated).mysql).map(({ name }) => name), ['a', 'b'])
  for (const nothing of [undefined, null, 42, {}, { pool: 'x' }]) t.strictSame(mysqlInstances(nothing), [])
})

t.test('the crash without the check: an idle connection dies with its server; a pool does not', async (t) => {
  t.teardown(server.revive)
  // Plain mysql2 in a child process, no 'error' listener.
  const script = `
    import mysql from 'mysql2'
    const config = JSON.parse(process.env.MYSQL_CONFIG)
    const target = process.env.KIND === 'pool' ? mysql.createPool(config) : mysql.createConnection(config)
    target.query('SELECT 1', (error) => {
      console.log(error ? 'broken' : 'ready')
      // A pool goes on: every 100 ms a query, which fails once the server is gone.
      if (process.env.KIND === 'pool') setInterval(() => target.query('SELECT 1', (error) => { if (error) console.log('failed') }), 100)
    })
    setInterval(() => {}, 1000)
  `
  const connectionProbe = crashProbe(script, { MYSQL_CONFIG: JSON.stringify(server.config), KIND: 'connection' }, process.cwd())
  const poolProbe = crashProbe(script, { MYSQL_CONFIG: JSON.stringify(server.config), KIND: 'pool' }, process.cwd())
  t.teardown(() => { connectionProbe.kill(); poolProbe.kill() })
  await Promise.all([connectionProbe.said('ready'), poolProbe.said('ready')])
  await server.halt()
  const ended = await Promise.race([connectionProbe.done, sleep(5000, undefined, { ref: false })])
  t.not(ended, undefined, 'the connection\'s process died')
  t.not(ended?.code, 0, 'with a failure')
  t.match(ended?.stderr, /Unhandled 'error' event/, 'of an \'error\' event nobody listened to')
  await poolProbe.said('failed')
  t.equal(await Promise.race([poolProbe.done.then(() => 'dead'), sleep(200, 'alive')]), 'alive', 'the pool\'s process lives on: mysql2 pools listen themselves')
  await server.start()
})

t.test('up: every target form passes, over inject and real HTTP', async (t) => {
  const app = await mysqlApp(Fastify())
  const pool = mysql.createPool(server.config)
  const promisePool = mysqlPromise.createPool(server.config)
  t.teardown(async () => { pool.end(); await promisePool.end() })
  const single = await connection(t)
  const promiseSingle = await mysqlPromise.createConnection(server.config)
  t.teardown(() => promiseSingle.end())
  const checks: Record<string, CheckDefinition> = {
    'pool:responseTime': mysqlCheck(pool),
    'promise-pool:responseTime': mysqlCheck(promisePool),
    'connection:responseTime': mysqlCheck(single),
    'promise-connection:responseTime': mysqlCheck(promiseSingle),
    'mysql:responseTime': mysqlCheck(app.mysql),
    'mysql-replica:responseTime': mysqlCheck(app.mysql.replica),
    'mysql-single:responseTime': mysqlCheck(app.mysql.single),
    'mysql-single-promise:responseTime': mysqlCheck(app.mysql.singlePromise)
  }
  const probe = await serveHealth(t, app, checks)
  const before = await server.healthQueries()
  const injected = await probe.inject()
  t.equal(injected.statusCode, 200)
  t.equal(injected.body.status, 'pass')
  for (const name of Object.keys(checks)) assertPass(t, injected, name, ID)
  const after = await server.healthQueries()
  t.ok(after - before >= 8, `the server ran the eight SELECT 1 (${after - before})`)

  const fetched = await probe.http('/health/ready')
  t.equal(fetched.statusCode, 200, 'ready over HTTP once the readings are stale')
  for (const name of Object.keys(checks)) assertPass(t, fetched, name, ID)
  for (const answer of [injected, fetched]) assertNoSecrets(t, answer.text, SECRETS, 'a passing answer')
  t.equal(connectionsOf(pool), 1, 'the pool check used one connection')
})

t.test('thresholds: the round trip rated against warn and fail', async (t) => {
  const pool = mysql.createPool(server.config)
  t.teardown(() => { pool.end() })
  const signal = new AbortController().signal
  t.match(await mysqlCheck(pool, { warn: 0 }).check(signal, context()), { status: 'warn', output: /^round trip [\d.]+ ms is at or above the warn threshold of 0 ms$/ })
  t.match(await mysqlCheck(pool, { warn: 0, fail: 0 }).check(signal, context()), { status: 'fail', output: /fail threshold of 0 ms/ })
  t.match(await mysqlCheck(pool, { warn: 60_000 }).check(signal, context()), { status: 'pass', observedUnit: 'ms' })
})

t.test('stopped: fail in one line, no crash, logged once per outage; back after a restart', async (t) => {
  t.teardown(server.revive)
  const { app: plain, lines } = loggedApp()
  const app = await mysqlApp(plain)
  app.get('/hello', async () => 'hi')
  const pool = await idlePool(t)
  const promisePool = mysqlPromise.createPool(server.config)
  t.teardown(() => promisePool.end())
  await promisePool.query('SELECT 1')
  const single = await connection(t)
  const appErrors: unknown[] = []
  const listened = await connection(t)
  listened.on('error', (error) => { appErrors.push(error) })
  const early = await connection(t)
  const promiseSingle = await mysqlPromise.createConnection(server.config)
  t.teardown(() => { promiseSingle.destroy() })
  const settings = { timeout: TIMEOUT, cacheFor: 0 }
  // Connections cannot reconnect: once gone they fail for good (not critical here).
  const broken = { ...settings, critical: false }
  const checks: Record<string, CheckDefinition> = {
    'mysql:responseTime': { ...mysqlCheck(app.mysql), ...settings },
    'mysql-replica:responseTime': { ...mysqlCheck(app.mysql.replica), ...settings },
    'pool:responseTime': { ...mysqlCheck(pool), ...settings },
    'promise-pool:responseTime': { ...mysqlCheck(promisePool), ...settings },
    'mysql-single:responseTime': { ...mysqlCheck(app.mysql.single), ...broken },
    'mysql-single-promise:responseTime': { ...mysqlCheck(app.mysql.singlePromise), ...broken },
    'connection:responseTime': { ...mysqlCheck(single), ...broken },
    'listened:responseTime': { ...mysqlCheck(listened), ...broken },
    'promise-connection:responseTime': { ...mysqlCheck(promiseSingle), ...broken },
    // Counts for /health only: no run before the outage, so its first error waits for one.
    'early:responseTime': { ...mysqlCheck(early), ...broken, probes: ['live'] }
  }
  const probe = await serveHealth(t, app, checks)
  t.equal((await probe.inject('/health/ready')).statusCode, 200)

  await server.halt()
  await waitFor('the app\'s own listener to get the error', () => appErrors.length > 0, 5000)
  t.match(String(appErrors[0]), /Connection lost|ECONNRESET|closed/, 'the app\'s listener still gets the event')
  for (let round = 0; round < 3; round++) {
    const answer = round === 1 ? await probe.http() : await probe.inject()
    t.equal(answer.statusCode, 503, 'fail while the server is down')
    t.ok(answer.ms < TIMEOUT + MARGIN, `answered in ${Math.round(answer.ms)} ms`)
    for (const name of Object.keys(checks)) assertFail(t, answer, name, ID)
    assertNoSecrets(t, answer.text, SECRETS, 'the answer')
  }
  t.equal((await app.inject('/hello')).statusCode, 200, 'the app keeps serving')
  for (const name of Object.keys(checks)) t.equal(warnLines(lines, name).length, 1, `${name}: logged once`)
  t.match(warnLines(lines, 'early:responseTime')[0], { level: 40, componentId: ID, error: /Connection lost|ECONNRESET|closed/ },
    'the error that came before any run, logged on the first run')

  await server.start()
  const back = await probe.inject()
  const pools = ['mysql:responseTime', 'mysql-replica:responseTime', 'pool:responseTime', 'promise-pool:responseTime']
  for (const name of pools) assertPass(t, back, name, ID)
  t.match(detail(back, 'connection:responseTime').output, /closed state/, 'a connection stays closed: mysql2 connections do not reconnect')
  t.equal(back.statusCode, 202, 'warn: only the non-critical connections fail')

  // Regression: a server that flaps (stopped again right after it came back) was logged again
  // at each flap.
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
    return pools.every((name) => backLines(lines, name).length > 0) || undefined
  }, outage.settleMs + 10_000, 100)
  for (const name of pools) {
    t.equal(backLines(lines, name).length, 1, `${name}: one line saying it is back`)
    t.match(backLines(lines, name)[0], { level: 30, componentId: ID, msg: `fastify-health: MySQL ${ID} reachable again` })
  }
  t.equal(backLines(lines, 'connection:responseTime').length, 0, 'the connection never passed: no such line')

  // A second outage is logged again, once.
  await server.halt()
  for (let round = 0; round < 2; round++) await probe.inject()
  for (const name of pools) t.equal(warnLines(lines, name).length, 2, `${name}: one more line for the second outage`)
  t.equal(warnLines(lines, 'connection:responseTime').length, 1, 'the connection never passed: still the same outage')
  assertNoSecrets(t, JSON.stringify(lines), SECRETS, 'the log')
  await server.start()
  // Not the check's doing: @fastify/mysql's onClose ends its connection, which is gone.
  await t.rejects(app.close(), /closed state/, '@fastify/mysql cannot end a connection whose server went away')
})

t.test('frozen: answers within the timeout, one connection at most, nothing piles up; back after thaw', async (t) => {
  const pool = await idlePool(t)
  const single = await connection(t)
  const timeout = 500
  const checks: Record<string, CheckDefinition> = {
    'pool:responseTime': { ...mysqlCheck(pool), timeout, cacheFor: 0 },
    'connection:responseTime': { ...mysqlCheck(single), timeout, cacheFor: 0 }
  }
  const probe = await serveHealth(t, Fastify(), checks)
  t.equal((await probe.inject()).statusCode, 200)
  const listeners = { pool: pool.listenerCount('error'), connection: single.listenerCount('error') }
  t.equal(listeners.connection, 1, 'the check added one listener to the connection')
  mysqlCheck(single)
  mysqlCheck(single.promise())
  t.equal(single.listenerCount('error'), 1, 'more checks of one connection: still one listener')
  let acquired = 0
  let queued = 0
  const taken: Array<{ stream: { destroyed: boolean } }> = []
  pool.on('acquire', (connection) => { acquired++; taken.push(connection as unknown as { stream: { destroyed: boolean } }) })
  pool.on('enqueue', () => { queued++ })
  const before = await server.healthQueries()

  await freeze(server.pid)
  let thawed = false
  t.teardown(() => thawed ? undefined : thaw(server.pid))
  let most = 0
  for (let round = 0; round < 6; round++) {
    const answer = round % 2 === 0 ? await probe.inject() : await probe.http()
    t.ok(answer.ms < timeout + MARGIN, `frozen: answered in ${Math.round(answer.ms)} ms`)
    t.equal(answer.statusCode, 503)
    // The runner's own reading of a timed-out run: it has no componentId to give.
    for (const name of Object.keys(checks)) t.match(detail(answer, name), { status: 'fail', output: 'Timed out after 500 ms' })
    if (round === 0) await waitFor('the hung connection to be destroyed, not kept', () => taken[0]?.stream.destroyed, 2000, 10)
    most = Math.max(most, connectionsOf(pool))
  }
  t.ok(most <= 1, `the check never held more than one pool connection (${most})`)
  t.equal(queued, 0, 'nor waited for a second one')
  t.ok(acquired <= 1, `one connection taken from the pool while frozen (${acquired})`)

  await thaw(server.pid)
  thawed = true
  const thawedAt = performance.now()
  let rounds = 0
  await waitFor('both checks to pass again', async () => {
    rounds++
    return (await probe.inject()).statusCode === 200
  }, 15_000, 100)
  const backIn = performance.now() - thawedAt
  t.ok(backIn < timeout + 2 * MARGIN, `pass again ${Math.round(backIn)} ms after the thaw (cacheFor 0 plus one run)`)
  const ran = (await server.healthQueries()) - before
  // Without single flight, six runs would have queued six queries on the connection alone.
  t.ok(ran <= 2 + 2 * rounds, `the server ran ${ran} SELECT 1 for ${rounds} round(s) after the thaw`)
  await waitFor('the destroyed connection\'s session to end', async () => (await server.sessions()) <= connectionsOf(pool) + 1, 10_000, 100)

  await probe.inject()
  const sockets = tcpSockets()
  for (let round = 0; round < 10; round++) await probe.inject()
  t.ok(tcpSockets() <= sockets, `no socket piles up over runs (${sockets} open)`)
  t.strictSame({ pool: pool.listenerCount('error'), connection: single.listenerCount('error') }, listeners, 'no listener piles up over runs')
  t.ok(connectionsOf(pool) <= 1, 'one pool connection after many runs')
})

t.test('killed mid-query: the reading fails in one line, the process lives', async (t) => {
  t.teardown(server.revive)
  const pool = await idlePool(t)
  const { app, lines } = loggedApp()
  const timeout = 4000
  const probe = await serveHealth(t, app, { 'pool:responseTime': { ...mysqlCheck(pool), timeout, cacheFor: 0 } })
  let acquired = false
  pool.on('acquire', () => { acquired = true })
  await freeze(server.pid)
  const pending = probe.inject()
  await waitFor('the check to take the idle connection', () => acquired, 2000, 10)
  await killTree(server.pid)
  const answer = await pending
  t.ok(answer.ms < timeout + MARGIN, `answered in ${Math.round(answer.ms)} ms`)
  t.match(assertFail(t, answer, 'pool:responseTime', ID), /ECONNRESET|Connection lost/)
  t.equal(warnLines(lines, 'pool:responseTime').length, 1, 'logged once')
  await server.halt()
  await server.start()
  t.equal((await probe.inject()).statusCode, 200, 'back once the server is')
})

t.test('secrets: a wrong password, in the settings or a connection string, shows in no answer and no log line', async (t) => {
  const { app, lines } = loggedApp()
  const wrong = `not-${server.password}`
  const settings = mysql.createPool({ ...server.config, password: wrong })
  const url = `mysql://${server.user}:${wrong}@127.0.0.1:${server.port}/health`
  const viaUrl = mysqlPromise.createPool(url)
  t.teardown(async () => { settings.end(); await viaUrl.end() })
  const probe = await serveHealth(t, app, {
    'settings:responseTime': { ...mysqlCheck(settings), timeout: TIMEOUT },
    'url:responseTime': { ...mysqlCheck(viaUrl), timeout: TIMEOUT }
  })
  const answer = await probe.http()
  for (const name of ['settings:responseTime', 'url:responseTime']) {
    t.match(assertFail(t, answer, name, ID), /Access denied for user '\*\*\*'/)
  }
  const secrets = { ...SECRETS, 'wrong password': wrong, 'URL with it': url }
  assertNoSecrets(t, answer.text, secrets, 'the answer')
  t.equal(warnLines(lines, 'url:responseTime').length, 1)
  assertNoSecrets(t, JSON.stringify(lines), secrets, 'the log')
})
