// redisCheck against real redis-server processes (a password, a one-node Cluster): every client
// form (ioredis, ioredis Cluster, node-redis, @fastify/redis default and namespaced) while the
// server is up, frozen, killed and back; no secret in any answer or log line; and the process
// surviving clients that crash it without the check. Under load: datastore-loads.test.ts.
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import fastifyRedis from '@fastify/redis'
import Fastify from 'fastify'
import { Cluster, Redis } from 'ioredis'
import { createClient, createClientPool, createCluster } from 'redis'
import t, { type Test } from 'tap'
import { defaults as outage } from '../lib/checks/outage.js'
import { isRedisTarget, redisCheck, redisInstances } from '../lib/checks/redis.js'
import type { CheckFunction, ComponentDetail } from '../lib/engine/types.js'
import fastifyHealth, { type HealthResponse, State } from '../lib/index.js'
import { draftErrors } from './draft-validator.js'
import { loggedApp, request, STACK_FRAME } from './helpers.js'
import { freePort, freeze, thaw, waitFor } from './servers/common.js'
import { crashProbe, OUTAGE_LOGGED } from './servers/datastore.js'
import { startRedis } from './servers/redis.js'

t.setTimeout(300_000)

const TIMEOUT = 500
const CACHE_FOR = 200
// What a 2-core shared machine may add to any wait.
const MARGIN = 1000

const server = await startRedis()
t.teardown(() => server.stop())
const clusterServer = await startRedis({ cluster: true })
t.teardown(() => clusterServer.stop())
const { host, port, password } = server

/** Every answer's text, and the log lines: none may hold a password. */
const texts: string[] = []

/** A reading taken by calling a check directly, with a logger that keeps its lines. */
async function readingOf (check: CheckFunction, signal = new AbortController().signal): Promise<ComponentDetail> {
  const { app } = loggedApp()
  return await check(signal, { log: app.log }) as ComponentDetail
}

/** ioredis' queues (private in its types): what was sent and awaits a reply, what waits to be sent. */
const queues = (client: Redis | Cluster): { commandQueue: { length: number }, offlineQueue: { length: number } } =>
  client as unknown as { commandQueue: { length: number }, offlineQueue: { length: number } }

interface Answer { statusCode: number, body: HealthResponse, ms: number }

/** GET over real HTTP: a valid document by the draft, no stack frame, answered within TIMEOUT + MARGIN. */
async function get (t: Test, url: string): Promise<Answer> {
  const started = performance.now()
  const got = await request(url)
  const ms = performance.now() - started
  texts.push(got.text)
  const problems = draftErrors(got.body)
  if (problems.length > 0) t.strictSame(problems, [], `${url}: a valid answer by the draft`)
  if (STACK_FRAME.test(got.text)) t.notMatch(got.text, STACK_FRAME, `${url}: no stack frame`)
  if (ms > TIMEOUT + MARGIN) t.fail(`${url} answered after ${Math.round(ms)} ms, more than ${TIMEOUT + MARGIN} ms`)
  return { statusCode: got.statusCode, body: got.body as HealthResponse, ms }
}

const entries = (body: HealthResponse): Record<string, ComponentDetail> =>
  Object.fromEntries(Object.entries(body.checks ?? {}).map(([name, list]) => [name, list[0] as ComponentDetail]))

/** Every check passes. */
const passing = (entry: ComponentDetail): boolean => entry.status === 'pass'
/** Every check failed by its own reading (not timed out by the engine): its componentId is there. */
const failing = (entry: ComponentDetail): boolean => entry.status === 'fail' && entry.componentId !== undefined

/** GETs `url` every 100 ms until every check's entry is `wanted`; bounded by `within` ms. */
async function until (t: Test, url: string, wanted: (entry: ComponentDetail) => boolean, within: number): Promise<Answer> {
  const deadline = performance.now() + within
  for (;;) {
    const got = await get(t, url)
    const all = Object.values(entries(got.body))
    if (all.length > 0 && all.every(wanted)) return got
    if (performance.now() > deadline) {
      t.fail(`every check did not ${wanted.name} within ${within} ms`, { checks: got.body.checks })
      return got
    }
    await sleep(100)
  }
}

t.test('bad targets and options throw at once', async (t) => {
  const lazy = new Redis({ lazyConnect: true })
  const pool = createClientPool({ url: server.url })
  const nodeCluster = createCluster({ rootNodes: [{ url: server.url }] })
  for (const target of [undefined, null, 'redis://localhost', 6379, {}, { status: 'ready' }, pool, nodeCluster, { redis: lazy }]) {
    t.throws(() => redisCheck(target as never), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' })
  }
  t.throws(() => redisCheck({ cache: lazy } as never), { code: 'FST_HEALTH_INVALID_CHECK_TARGET', message: /got a plain object/ },
    'a namespaces-only @fastify/redis decorator is no client: its clients are')
  for (const options of ['fast', [], { timeout: 100 }, { warn: -1 }, { warn: 20, fail: 10 }, { componentId: '' }, { componentId: 7 }]) {
    t.throws(() => redisCheck(lazy, options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(options))
  }
  t.ok(isRedisTarget(lazy), 'an ioredis client')
  t.ok(isRedisTarget(new Cluster([port], { lazyConnect: true })), 'an ioredis Cluster')
  t.ok(isRedisTarget(createClient()), 'a node-redis client')
  t.notOk(isRedisTarget(pool), 'not a node-redis pool')
  t.notOk(isRedisTarget(nodeCluster), 'not a node-redis cluster (its sendCommand takes other arguments)')
  t.notOk(isRedisTarget({ ping: () => {} }))
})

t.test('@fastify/redis: the default client and the namespaced ones are found', async (t) => {
  const both = Fastify()
  t.teardown(() => both.close())
  await both.register(fastifyRedis, { host, port, password })
  await both.register(fastifyRedis, { host, port, password, namespace: 'cache', db: 1 })
  const found = redisInstances(both.redis)
  t.strictSame(found.map(({ name }) => name), [undefined, 'cache'], 'the default, then the namespace attached to it')
  t.equal(found[0]?.target, both.redis)
  t.equal(found[1]?.target, both.redis.cache)

  const only = Fastify()
  t.teardown(() => only.close())
  await only.register(fastifyRedis, { host, port, password, namespace: 'sessions' })
  await only.register(fastifyRedis, { host, port, password, namespace: 'queue' })
  t.strictSame(redisInstances(only.redis).map(({ name }) => name), ['sessions', 'queue'], 'namespaces only')

  const cluster = new Cluster([{ host, port: clusterServer.port }], { lazyConnect: true })
  t.strictSame(redisInstances(cluster).map(({ name }) => name), [undefined], 'a Cluster holds no other client of its own')
  for (const nothing of [undefined, null, 'redis', {}, { a: 1 }]) t.strictSame(redisInstances(nothing), [])
})

t.test('componentId: where the client connects, never its credentials', async (t) => {
  const ended = <T extends { disconnect: () => void }>(client: T): T => {
    client.disconnect()
    return client
  }
  const ids: Array<[unknown, string]> = [
    [ended(new Redis(`${server.url}/4`, { lazyConnect: true })), `127.0.0.1:${port}/4`],
    [ended(new Redis({ lazyConnect: true })), 'localhost:6379'],
    [ended(new Redis({ path: '/run/redis/redis.sock', lazyConnect: true })), '/run/redis/redis.sock'],
    [ended(new Redis({ sentinels: [{ host, port }], name: 'orders', lazyConnect: true })), 'orders (sentinel)'],
    [createClient({ url: `${server.url}/5` }), `127.0.0.1:${port}/5`],
    [createClient(), 'localhost:6379'],
    [createClient({ socket: { path: '/run/redis/redis.sock', tls: false } }), '/run/redis/redis.sock'],
    [ended(new Cluster([7000, '127.0.0.1:7001', `redis://:${password}@[::1]:7002`, 'redis://cache.internal', 'redis://[bad', '7003', 'cache', { host: '10.1.2.3', port: 7004 }, {}], { lazyConnect: true })),
      'localhost:7000,127.0.0.1:7001,[::1]:7002,cache.internal:6379,redis,localhost:7003,cache:6379,10.1.2.3:7004,localhost:6379'],
    [ended(new Cluster([], { lazyConnect: true })), 'cluster']
  ]
  for (const [target, id] of ids) {
    const reading = await readingOf(redisCheck(target as never).check)
    t.match(reading, { componentType: 'datastore', componentId: id, status: 'fail', output: /^The client is not/ }, id)
    t.notMatch(JSON.stringify(reading), password)
  }
  const reading = await readingOf(redisCheck(createClient(), { componentId: 'sessions' }).check)
  t.equal(reading.componentId, 'sessions', 'the componentId option wins')
})

t.test('ioredis, node-redis, a Cluster and @fastify/redis: up, frozen, killed, back', async (t) => {
  const { app, lines } = loggedApp()
  await app.register(fastifyRedis, { host, port, password })
  await app.register(fastifyRedis, { host, port, password, namespace: 'cache', db: 1 })
  // A URL with the password in it; and a node-redis client with no 'error' listener of its own.
  const io = new Redis(`${server.url}/2`)
  const nodeRedis = createClient({ url: `${server.url}/3` })
  await nodeRedis.connect()
  const cluster = new Cluster([{ host, port: clusterServer.port }], { redisOptions: { password: clusterServer.password } })
  await waitFor('the cluster client', () => cluster.status === 'ready')
  t.teardown(async () => {
    await app.close()
    io.disconnect()
    nodeRedis.destroy()
    cluster.disconnect()
  })
  const [fromDefault, fromNamespace] = redisInstances(app.redis)
  const settings = { timeout: TIMEOUT, cacheFor: CACHE_FOR }
  const clients = { ioredis: io, 'node-redis': nodeRedis, 'fastify-redis': app.redis, 'fastify-redis-cache': app.redis.cache, cluster }
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    checks: {
      ioredis: { ...redisCheck(io), ...settings },
      'node-redis': { ...redisCheck(nodeRedis), ...settings },
      'fastify-redis': { ...redisCheck(fromDefault?.target as never), ...settings },
      'fastify-redis-cache': { ...redisCheck(fromNamespace?.target as never), ...settings },
      cluster: { ...redisCheck(cluster), ...settings }
    }
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const health = `${base}/health`
  const ids: Record<string, string> = {
    ioredis: `127.0.0.1:${port}/2`,
    'node-redis': `127.0.0.1:${port}/3`,
    'fastify-redis': `127.0.0.1:${port}`,
    'fastify-redis-cache': `127.0.0.1:${port}/1`,
    cluster: `127.0.0.1:${clusterServer.port}`
  }
  const errorListeners = (): number[] => Object.values(clients).map((client) => client.listenerCount('error'))
  const logged = (name: string): number => lines.filter((line) => line.check === name && OUTAGE_LOGGED.test(String(line.msg))).length
  const assertFailed = (t: Test, body: HealthResponse): void => {
    for (const [name, entry] of Object.entries(entries(body))) {
      t.match(entry, { componentType: 'datastore', componentId: ids[name], status: 'fail', output: String }, `${name} fails`)
      t.notMatch(entry.output, /\n/, `${name}: one line`)
      t.equal(entry.observedValue, undefined, `${name}: no round trip to tell`)
    }
  }

  await t.test('up: every form passes, over inject and real HTTP', async (t) => {
    const injected = await app.inject('/health')
    t.equal(injected.statusCode, 200)
    t.strictSame(draftErrors(injected.json()), [])
    for (const url of [health, `${base}/health/ready`]) {
      const got = await get(t, url)
      t.equal(got.statusCode, 200, url)
      t.equal(got.body.status, 'pass')
      t.strictSame(Object.keys(entries(got.body)).sort(), Object.keys(ids).sort())
      for (const [name, entry] of Object.entries(entries(got.body))) {
        t.match(entry, { componentType: 'datastore', componentId: ids[name], observedUnit: 'ms', status: 'pass' }, name)
        t.ok(typeof entry.observedValue === 'number' && entry.observedValue >= 0 && entry.observedValue < TIMEOUT, `${name}: ${String(entry.observedValue)} ms`)
      }
      await sleep(CACHE_FOR)
    }
  })

  await t.test('frozen: every answer in time, one PING per client in flight, nothing piles up', async (t) => {
    await sleep(CACHE_FOR)
    const pings = await server.pings()
    const sockets = await server.clients()
    const listeners = errorListeners()
    await freeze(server.pid)
    await freeze(clusterServer.pid)
    let last: Answer | undefined
    try {
      // Well within node-redis' own command timeout (5 s), after which it would send another.
      for (let i = 0; i < 12; i++) {
        last = await get(t, health)
        for (const client of [io, app.redis, app.redis.cache]) {
          const { commandQueue, offlineQueue } = queues(client)
          if (commandQueue.length > 1 || offlineQueue.length > 0) {
            t.fail(`ioredis queues: ${commandQueue.length} sent, ${offlineQueue.length} offline`)
          }
        }
        if (queues(cluster).offlineQueue.length > 0) t.fail('the Cluster queued commands offline')
        await sleep(150)
      }
    } finally {
      await thaw(server.pid)
      await thaw(clusterServer.pid)
    }
    t.equal(last?.statusCode, 503)
    t.match(entries(last?.body as HealthResponse), Object.fromEntries(Object.keys(ids).map((name) => [name, { status: 'fail', output: `Timed out after ${TIMEOUT} ms` }])))
    t.strictSame(errorListeners(), listeners, 'no listener added by the runs')
    // No run is going: each client's one PING, answered now that the server runs. Waited for
    // (the thawed server takes its time on a loaded machine), then counted exactly.
    await waitFor('the PINGs the frozen server held', async () => await server.pings() - pings >= 4 || undefined, 10_000, 20)
    t.equal(await server.pings() - pings, 4, 'the server got one PING per client (4) for 12 answers')
    t.equal(await server.clients(), sockets, 'no new connection')
  })

  await t.test('thawed: passing again within cacheFor and one run', async (t) => {
    t.equal((await until(t, health, passing, CACHE_FOR + TIMEOUT + MARGIN)).statusCode, 200)
  })

  // A process whose client has no 'error' listener: node-redis crashes it, ioredis prints.
  const env = { REDIS_URL: server.url }
  const bare = crashProbe("import { createClient } from 'redis'; await createClient({ url: process.env.REDIS_URL }).connect(); console.log('ready')", env, process.cwd())
  const noisy = crashProbe("import { Redis } from 'ioredis'; const r = new Redis(process.env.REDIS_URL); await r.ping(); console.log('ready'); setInterval(() => {}, 1000)", env, process.cwd())
  t.teardown(() => { bare.kill(); noisy.kill() })
  await Promise.all([bare.said('ready'), noisy.said('ready')])

  await t.test('killed while frozen: fail within the timeout, no crash, logged once', async (t) => {
    await freeze(server.pid)
    // PINGs go out and hang; then the server dies under them.
    await get(t, health)
    await server.kill()
    await clusterServer.kill()
    const failed = await until(t, health, failing, CACHE_FOR + TIMEOUT + MARGIN)
    assertFailed(t, failed.body)
    t.equal(failed.statusCode, 503)
    for (let i = 0; i < 10; i++) {
      await get(t, health)
      await sleep(100)
    }
    t.equal((await app.inject('/health/live')).statusCode, 200, 'the app keeps serving')
    t.equal((await get(t, `${base}/health/live`)).statusCode, 200)
    for (const name of Object.keys(ids)) t.equal(logged(name), 1, `${name}: the outage logged once`)
    const crashed = await bare.done
    t.not(crashed.code, 0, 'without the check, node-redis crashed its process')
    t.match(crashed.stderr, /Socket closed unexpectedly|ECONNREFUSED/)
    noisy.kill()
    t.match((await noisy.done).stderr, /\[ioredis\] Unhandled error event/, 'without the check, ioredis prints every error')
  })

  await t.test('back: passing again without restarting the app', async (t) => {
    await server.start()
    await clusterServer.start()
    await waitFor('the clients to reconnect', () => io.status === 'ready' && nodeRedis.isReady && cluster.status === 'ready' &&
      app.redis.status === 'ready' && app.redis.cache.status === 'ready', 15_000)
    t.equal((await until(t, health, passing, CACHE_FOR + TIMEOUT + MARGIN)).statusCode, 200)
    // Back for good once the readings passed for outage.ts's settleMs: one info line each.
    const back = (name: string): Array<Record<string, unknown>> =>
      lines.filter((line) => line.check === name && /reachable again$/.test(String(line.msg)))
    await waitFor('a line saying each is reachable again', async () => {
      await get(t, health)
      return Object.keys(ids).every((name) => back(name).length > 0) || undefined
    }, outage.settleMs + 10_000, 100)
    for (const [name, id] of Object.entries(ids)) {
      t.equal(back(name).length, 1, `${name}: one line saying it is back`)
      t.match(back(name)[0], { level: 30, componentId: id, msg: `fastify-health: Redis ${id} reachable again` })
    }
  })

  await t.test('killed again: a new outage is logged again', async (t) => {
    await server.kill()
    await clusterServer.kill()
    assertFailed(t, (await until(t, health, failing, CACHE_FOR + TIMEOUT + MARGIN)).body)
    await sleep(500)
    await get(t, health)
    for (const name of Object.keys(ids)) t.equal(logged(name), 2, `${name}: two outages, two lines`)
    await server.start()
    await clusterServer.start()
    await until(t, health, passing, 15_000)
  })

  t.test('secrets: no password in any answer or log line', async (t) => {
    t.ok(texts.length > 20, `${texts.length} answers`)
    for (const text of [...texts, ...lines.map((line) => JSON.stringify(line))]) {
      if (text.includes(password) || text.includes(clusterServer.password)) t.fail(`a password leaked: ${text}`)
    }
    t.ok(lines.some((line) => OUTAGE_LOGGED.test(String(line.msg))), 'the log lines were looked at')
  })
})

t.test('clients that are not connected fail at once, saying why', async (t) => {
  const { app, lines } = loggedApp()
  const log = app.log
  const started = performance.now()

  const never = await readingOf(redisCheck(createClient({ url: server.url })).check)
  t.match(never, { status: 'fail', output: 'The client is not open (connect() was not called, or it was closed)' })

  const closed = createClient({ url: server.url })
  await closed.connect()
  closed.destroy()
  t.match(await readingOf(redisCheck(closed).check), { status: 'fail', output: /^The client is not open/ })

  // An error before any run is kept, and logged by the first run.
  const deadPort = await freePort()
  const refused = createClient({ socket: { host, port: deadPort, reconnectStrategy: 100 } })
  const { check: refusedCheck } = redisCheck(refused)
  refused.connect().catch(() => {})
  t.teardown(() => refused.destroy())
  await sleep(300)
  const reading = await refusedCheck(new AbortController().signal, { log }) as ComponentDetail
  t.match(reading, { status: 'fail', componentId: `127.0.0.1:${deadPort}`, output: /^The client is not ready \(it is reconnecting\); last error: .*ECONNREFUSED/ })
  t.equal(lines.filter((line) => OUTAGE_LOGGED.test(String(line.msg))).length, 1, 'the kept error, logged at the first run')
  t.match(lines.find((line) => OUTAGE_LOGGED.test(String(line.msg))), { level: 40, error: /ECONNREFUSED/ })

  // RESP2 connects without HELLO, so without the password: the server refuses the PING itself.
  const anonymous = createClient({ socket: { host, port }, RESP: 2 })
  const { check: anonymousCheck } = redisCheck(anonymous)
  await anonymous.connect()
  t.teardown(() => anonymous.destroy())
  t.match(await anonymousCheck(new AbortController().signal, { log }), { status: 'fail', componentId: `127.0.0.1:${port}`, output: /^\[?\w*Error\]?:? ?NOAUTH/ })

  const wrong = new Redis({ host, port, password: 'not-the-password-42' })
  const { check: wrongCheck } = redisCheck(wrong)
  t.teardown(() => wrong.disconnect())
  await waitFor('the refused password', () => wrong.status === 'reconnecting')
  const denied = await wrongCheck(new AbortController().signal, { log }) as ComponentDetail
  t.match(denied, { status: 'fail', output: /; last error: .*WRONGPASS/ })
  t.notMatch(JSON.stringify([denied, lines]), 'not-the-password-42')
  t.ok(performance.now() - started < 5000, 'none of them waited for a timeout')
})

t.test('ioredis: a lazyConnect client is connected by its first PING; thresholds rate the round trip', async (t) => {
  const lazy = new Redis({ host, port, password, lazyConnect: true })
  t.teardown(() => lazy.disconnect())
  t.equal(lazy.status, 'wait')
  t.match(await readingOf(redisCheck(lazy).check), { status: 'pass', observedUnit: 'ms', observedValue: Number })
  t.equal(lazy.status, 'ready')
  t.match(await readingOf(redisCheck(lazy, { warn: 0 }).check), { status: 'warn', output: /^round trip [\d.]+ ms is at or above the warn threshold of 0 ms$/ })
  t.match(await readingOf(redisCheck(lazy, { warn: 0, fail: 0 }).check), { status: 'fail', output: /fail threshold of 0 ms/, observedValue: Number })
  const aborted = AbortSignal.abort(new Error('stopped'))
  await t.rejects(readingOf(redisCheck(lazy).check, aborted), { message: 'stopped' }, 'an aborted run stops at once')
})
