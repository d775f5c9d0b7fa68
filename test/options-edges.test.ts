import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import Fastify from 'fastify'
import fastifyHealth, { type FastifyHealthOptions } from '../lib/index.js'
import { schemaErrors } from './helpers.js'

test('statusCodes: codes that cannot carry a body are refused', async (t) => {
  for (const [status, code] of [['pass', 204], ['warn', 205], ['warn', 304]] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { serviceName: 'orders', statusCodes: { [status]: code } }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"statusCodes".*cannot carry the health document/ }, `${status}: ${code}`)
  }
})

test('shutdownDelay must be whole milliseconds within a timer\'s range', async (t) => {
  for (const value of [-1, 1.5, 2 ** 31, '100', Number.NaN]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { serviceName: 'orders', shutdownDelay: value as number }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"shutdownDelay" must be an integer number of milliseconds from 0/ }, String(value))
  }
  const app = Fastify()
  t.teardown(() => app.close())
  let closed = false
  app.addHook('onClose', async () => { closed = true })
  await app.register(fastifyHealth, { serviceName: 'orders', shutdownDelay: 0 })
  // Bounded by half the default delay (10 s), on an unref'd timer: a 0 taken for "the default"
  // loses the race by seconds, whatever the load.
  const closing = app.health.shutdown().then(() => 'closed')
  t.equal(await Promise.race([closing, sleep(5_000, 'still draining', { ref: false })]), 'closed', '0 is fine: shutdown() closes at once')
  t.ok(closed, 'the instance is closed')
  t.equal(app.health.state, 'Shutting down')
})

test('logLevel must be a pino level name', async (t) => {
  for (const value of [5, '', 'verbose']) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { serviceName: 'orders', logLevel: value as 'info' }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"logLevel" must be one of fatal, error, warn, info, debug, trace, silent/ }, String(value))
  }
})

test('an HTTP/2 server closes without the idle connection sweep (it has no HTTP/1 connections)', async (t) => {
  const app = Fastify({ http2: true })
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: 'Working' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200)
  t.same(schemaErrors(res.json()), [])
  await app.close()
  t.equal(app.health.state, 'Shutting down', 'closed, and the state said so')
})

test('probes: a boolean, or paths per probe; anything else fails naming the option', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['yes', /"probes" must be a boolean or \{ live, ready, started \}/],
    [{ healthy: '/h' }, /"probes" has an unknown probe "healthy"/],
    [{ ready: 'ready' }, /"probes" sets ready to a path that does not start with "\/"/],
    [{ live: 42 }, /"probes" sets live to a path that does not start with "\/"/]
  ]
  for (const [value, message] of bad) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { serviceName: 'orders', probes: value as false }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message }, JSON.stringify(value))
  }
  const good: Array<[FastifyHealthOptions['probes'], Record<string, boolean>]> = [
    [true, { '/health': true, '/health/live': true, '/health/ready': true, '/health/started': true }],
    [false, { '/health': true, '/health/live': false, '/health/ready': false, '/health/started': false }],
    [{ live: false, ready: undefined, started: '/up' }, { '/health': true, '/health/live': false, '/health/ready': true, '/health/started': false, '/up': true }]
  ]
  for (const [value, routes] of good) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifyHealth, { serviceName: 'orders', probes: value })
    const served: Record<string, boolean> = {}
    for (const url of Object.keys(routes)) served[url] = (await app.inject(url)).statusCode !== 404
    t.same(served, routes, `accepted: ${JSON.stringify(value)}, and the routes are the ones it asks for`)
  }
})

test('exposeDetails must be a boolean or a function', async (t) => {
  for (const value of ['yes', 1, null, {}]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { serviceName: 'orders', exposeDetails: value as boolean }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"exposeDetails" must be a boolean or a function of the request/ }, String(value))
  }
})
