// Ready-made checks release what they add to the app's client (issue 19, defect 6), over the
// real clients and servers: ioredis and node-redis, pg, mysql2, amqplib. Each factory returns
// { check, close }; close() takes the check's listeners off the client (one listener per client
// and event, shared by its checks and removed with the last) and closes RabbitMQ's channel.
// 100 add/remove cycles leave the clients' listener counts as they were, with no warning, and
// the plugin calls close() on removeCheck() and when the instance closes.
import { EventEmitter } from 'node:events'
import { tmpdir } from 'node:os'
import fastifyRedis from '@fastify/redis'
import amqplib from 'amqplib'
import * as callbackApi from 'amqplib/callback_api'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import mysql from 'mysql2'
import mysqlPromise from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import t, { type Test } from 'tap'
import {
  diskCheck, dnsCheck, mysqlCheck, postgresCheck, rabbitmqCheck, type ReadyMadeCheck, redisCheck, tcpCheck, tlsCertificateCheck, underPressureCheck
} from '../lib/checks/index.js'
import fastifyHealth, { State } from '../lib/index.js'
import { loggedApp } from './helpers.js'
import { checkContext, waitFor } from './servers/common.js'
import { startMysql } from './servers/mysql.js'
import { startPostgres } from './servers/postgres.js'
import { startRabbitmq } from './servers/rabbitmq.js'
import { startRedis } from './servers/redis.js'

t.setTimeout(300_000)

const [redisServer, postgres, mariadb, broker] = await Promise.all([startRedis(), startPostgres(), startMysql(), startRabbitmq()])
t.teardown(() => Promise.all([redisServer.stop(), postgres.stop(), mariadb.stop(), broker.stop()]))

// Node warns past 10 listeners for one event: the shared listener must keep any number of checks under it.
const warnings: Error[] = []
const onWarning = (warning: Error): void => { warnings.push(warning) }
process.on('warning', onWarning)
t.teardown(() => process.off('warning', onWarning))

const CYCLES = 100
const CONNECTION_EVENTS = ['error', 'blocked', 'unblocked', 'close']
const RECOVERING_EVENTS = ['error', 'blocked', 'unblocked', 'connect', 'connect-failed', 'disconnect', 'reconnect-failed']

interface Client {
  emitter: EventEmitter
  events: string[]
  make: () => ReadyMadeCheck
}

/** The clients, connected, each with the emitter its checks listen to; closed at teardown. */
async function clients (t: Test): Promise<Record<string, Client>> {
  const io = new Redis(redisServer.url)
  const nodeRedis = createClient({ url: redisServer.url })
  nodeRedis.on('error', () => {})
  await nodeRedis.connect()
  const pool = new pg.Pool(postgres.config)
  const pgClient = new pg.Client(postgres.config)
  await pgClient.connect()
  const connection = mysql.createConnection(mariadb.config)
  const promiseConnection = await mysqlPromise.createConnection(mariadb.config)
  const model = await amqplib.connect(broker.url)
  const withCallbacks = await new Promise<callbackApi.Connection>((resolve, reject) => {
    callbackApi.connect(broker.url, (error, opened) => { if (error === null) resolve(opened); else reject(error) })
  })
  const recovering = await amqplib.connect(broker.url, { recovery: true })
  t.teardown(async () => {
    io.disconnect()
    nodeRedis.destroy()
    await pool.end()
    await pgClient.end()
    connection.destroy()
    promiseConnection.destroy()
    await model.close().catch(() => {})
    await new Promise((resolve) => { withCallbacks.close(resolve) })
    await recovering.close()
  })
  return {
    ioredis: { emitter: io, events: ['error'], make: () => redisCheck(io) },
    'node-redis': { emitter: nodeRedis as unknown as EventEmitter, events: ['error'], make: () => redisCheck(nodeRedis) },
    'pg Pool': { emitter: pool, events: ['error'], make: () => postgresCheck(pool) },
    'pg Client': { emitter: pgClient, events: ['error'], make: () => postgresCheck(pgClient) },
    'mysql2 connection': { emitter: connection, events: ['error'], make: () => mysqlCheck(connection) },
    // The promise wrapper's checks listen to the callback connection under it.
    'mysql2/promise connection': { emitter: (promiseConnection as unknown as { connection: EventEmitter }).connection, events: ['error'], make: () => mysqlCheck(promiseConnection) },
    'amqplib model': { emitter: model, events: CONNECTION_EVENTS, make: () => rabbitmqCheck(model) },
    'amqplib callback model': { emitter: withCallbacks, events: CONNECTION_EVENTS, make: () => rabbitmqCheck(withCallbacks as never) },
    'amqplib recovering model': { emitter: recovering as unknown as EventEmitter, events: RECOVERING_EVENTS, make: () => rabbitmqCheck(recovering) }
  }
}

const listeners = (client: Client): Record<string, number> =>
  Object.fromEntries(client.events.map((event) => [event, client.emitter.listenerCount(event)]))

/** Warnings come on a later tick: let them arrive, then take them. */
async function takeWarnings (): Promise<string[]> {
  await new Promise((resolve) => setImmediate(resolve))
  return warnings.splice(0).map((warning) => `${warning.name}: ${warning.message}`)
}

t.test('every factory returns { check, close }; close() resolves, again and again', async (t) => {
  const checks: Record<string, ReadyMadeCheck> = {
    tcpCheck: tcpCheck('127.0.0.1', redisServer.port),
    dnsCheck: dnsCheck('localhost'),
    diskCheck: diskCheck(tmpdir()),
    tlsCertificateCheck: tlsCertificateCheck('127.0.0.1:443'),
    underPressureCheck: underPressureCheck({ memoryUsage: () => ({ eventLoopDelay: 0, rssBytes: 0, heapUsed: 0, eventLoopUtilized: 0 }), isUnderPressure: () => false })
  }
  for (const [factory, made] of Object.entries(checks)) {
    t.same(Object.keys(made).sort(), ['check', 'close'], factory)
    t.type(made.check, 'function')
    t.equal(await made.close(), undefined, `${factory}: close() resolves`)
    t.equal(await made.close(), undefined, `${factory}: and again`)
  }
  t.match(await checks.tcpCheck?.check(new AbortController().signal, checkContext), { status: 'pass' }, 'a check that holds nothing still runs after close()')
})

t.test(`${CYCLES} make-and-close cycles leave every client's listeners as they were, with no warning`, async (t) => {
  for (const [name, client] of Object.entries(await clients(t))) {
    const before = listeners(client)
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const made = client.make()
      // A run between the two, as the plugin would make.
      await made.check(new AbortController().signal, checkContext)
      await made.close()
    }
    t.same(listeners(client), before, `${name}: the listener counts as before`)
    t.same(await takeWarnings(), [], `${name}: no warning`)
  }
})

t.test('checks of one client share one listener per event; it goes with the last close()', async (t) => {
  for (const [name, client] of Object.entries(await clients(t))) {
    const before = listeners(client)
    const made = Array.from({ length: 12 }, () => client.make())
    t.same(listeners(client), Object.fromEntries(client.events.map((event) => [event, (before[event] ?? 0) + 1])), `${name}: one listener for 12 checks`)
    t.same(await takeWarnings(), [], `${name}: no MaxListenersExceededWarning`)
    // Closing one check twice releases it once: the others still hold the listener.
    await made[0]?.close()
    await made[0]?.close()
    t.same(listeners(client), Object.fromEntries(client.events.map((event) => [event, (before[event] ?? 0) + 1])), `${name}: still one, for the 11 others`)
    await Promise.all(made.map((each) => each.close()))
    t.same(listeners(client), before, `${name}: none once every check is closed`)
  }
})

t.test('a check that is left still hears its client: its outage is logged', async (t) => {
  const pool = new pg.Pool(postgres.config)
  t.teardown(() => pool.end())
  const { app, lines } = loggedApp(t)
  const [kept, closed] = [postgresCheck(pool), postgresCheck(pool)]
  await closed?.check(new AbortController().signal, { log: app.log })
  await kept?.check(new AbortController().signal, { log: app.log })
  await closed?.close()
  pool.emit('error', new Error('terminating connection due to administrator command'))
  t.match(lines.filter((line) => /^PostgreSQL connection error/.test(String(line.msg))), [{ level: 40, error: /terminating connection/ }],
    'logged by the check that is left, once')
  await kept?.close()
  t.equal(pool.listenerCount('error'), 0, 'and the pool has no listener of the checks any more')
})

t.test('RabbitMQ: close() closes the check\'s channel; a run after it fails', async (t) => {
  const model = await amqplib.connect(broker.url)
  t.teardown(() => model.close())
  const open = (): number => (model.connection as unknown as { channels: unknown[] }).channels.slice(1).filter((slot) => slot !== null).length
  const made = rabbitmqCheck(model)
  t.match(await made.check(new AbortController().signal, checkContext), { status: 'pass' })
  t.equal(open(), 1, 'the check opened its channel')
  await made.close()
  t.equal(open(), 0, 'close() closed it')
  t.match(await made.check(new AbortController().signal, checkContext), { status: 'fail', output: 'The check was closed' })
  t.equal(open(), 0, 'and the run opened none')

  // Closed while its channel is being opened: the channel is closed as soon as it opens.
  const opening = rabbitmqCheck(model)
  const run = opening.check(new AbortController().signal, checkContext)
  await opening.close()
  t.match(await run, { status: 'fail', output: 'Error: The check was closed' })
  await waitFor('the channel that opened after close() to be closed', () => open() === 0, 5000, 10)
  t.pass('no channel left open')

  // Closed while the channel is closing already (amqplib refuses a second close): no error.
  const gone = rabbitmqCheck(model)
  await gone.check(new AbortController().signal, checkContext)
  const slot = (model.connection as unknown as { channels: Array<{ channel: { close: () => Promise<void> } } | null> }).channels.slice(1).find((each) => each !== null)
  const closing = slot?.channel.close()
  t.equal(await gone.close(), undefined, 'close() resolves')
  await closing
  t.equal(open(), 0, 'closed once')
})

t.test('through the plugin: removeCheck() and the instance\'s close() call close()', async (t) => {
  const found = await clients(t)
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK })
  await app.ready()
  const before = Object.fromEntries(Object.entries(found).map(([name, client]) => [name, listeners(client)]))
  const channelsBefore = await broker.channels()
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    for (const [name, client] of Object.entries(found)) app.health.addCheck(`${name.replace(/\W+/g, '-')}:responseTime`, client.make())
    // Each check runs once, so that RabbitMQ's open their channels.
    if (cycle === 0) t.equal((await app.inject('/health/ready')).statusCode, 200)
    for (const name of Object.keys(found)) app.health.removeCheck(`${name.replace(/\W+/g, '-')}:responseTime`)
  }
  // removeCheck() does not wait for close(): its promise settles on a later tick.
  await waitFor('every check closed', () => Object.entries(found).every(([name, client]) =>
    JSON.stringify(listeners(client)) === JSON.stringify(before[name])), 5000, 10)
  for (const [name, client] of Object.entries(found)) t.same(listeners(client), before[name], `${name}: as before ${CYCLES} add/remove cycles`)
  t.same(await takeWarnings(), [], 'no warning')
  await waitFor('the broker to close the checks\' channels', async () => await broker.channels() === channelsBefore, 10_000)
  t.pass('the checks\' RabbitMQ channels are closed')

  const closing = await closingApp(found)
  t.equal((await closing.inject('/health/ready')).statusCode, 200)
  await closing.close()
  for (const [name, client] of Object.entries(found)) t.same(listeners(client), before[name], `${name}: released when the instance closed`)
  await waitFor('the broker to close the channels', async () => await broker.channels() === channelsBefore, 10_000)
  await app.close()
})

/** An instance with a check of each client in the `checks` option, ready. */
async function closingApp (found: Record<string, Client>): Promise<FastifyInstance> {
  const app = Fastify()
  const checks = Object.fromEntries(Object.entries(found).map(([name, client]) => [`${name.replace(/\W+/g, '-')}:responseTime`, client.make()]))
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, checks })
  await app.ready()
  return app
}

t.test('a plain EventEmitter with no listener of its own is left with none', async (t) => {
  // What node-redis crashes without: the check's listener, while it lives, and nothing after.
  const emitter = new EventEmitter()
  const fake = Object.assign(emitter, { isOpen: true, isReady: true, options: {}, sendCommand: async () => 'PONG', withAbortSignal: () => emitter })
  const made = redisCheck(fake as never)
  t.doesNotThrow(() => emitter.emit('error', new Error('kept from crashing')))
  await made.close()
  t.equal(emitter.listenerCount('error'), 0)
  t.throws(() => emitter.emit('error', new Error('the app\'s own business now')), /the app's own business now/)
})

t.test('autoChecks: the checks it registers are released when the instance closes', async (t) => {
  const io = new Redis(redisServer.url)
  const pool = new pg.Pool(postgres.config)
  t.teardown(async () => {
    io.disconnect()
    await pool.end()
  })
  const before = [io.listenerCount('error'), pool.listenerCount('error')]
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, autoChecks: true })
  // The app's own clients, which outlive the instance: neither plugin closes them.
  await app.register(fastifyRedis, { client: io, closeClient: false })
  // What @fastify/postgres decorates, over a pool it does not own.
  app.decorate('pg', { pool, query: pool.query.bind(pool), connect: pool.connect.bind(pool) } as never)
  await app.ready()
  t.same([io.listenerCount('error'), pool.listenerCount('error')], before.map((count) => count + 1), 'a listener on each client while registered')
  t.equal((await app.inject('/health/ready')).statusCode, 200)
  await app.close()
  t.same([io.listenerCount('error'), pool.listenerCount('error')], before, 'none once the instance closed')
})
