// createHealthServer: a health endpoint on its own port, over real HTTP on 127.0.0.1.
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import pino from 'pino'
import { type Test, test } from 'tap'
import fastifyHealth, {
  createHealthServer, type HealthServer, type HealthServerOptions, State
} from '../lib/index.js'
import { assertAnswer, CONTENT_TYPE, request, stateChanges } from './helpers.js'

/** A health server closed when the test ends. */
function healthServer (t: Test, options: HealthServerOptions): HealthServer {
  const server = createHealthServer(options)
  t.teardown(() => server.close())
  return server
}

/** Collects the JSON log lines written to it. */
function logStream (): { lines: Array<Record<string, unknown>>, stream: { write: (line: string) => void } } {
  const lines: Array<Record<string, unknown>> = []
  return { lines, stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } }
}

test('listen() resolves with the address; every state over real HTTP', async (t) => {
  const server = healthServer(t, { serviceName: 'worker', port: 0 })
  t.equal(typeof server.health.setStateWorking, 'function')
  const address = await server.listen()
  t.equal(server.fastify.health, server.health, 'the same controller as fastify.health')
  const { port } = server.fastify.server.address() as AddressInfo
  t.equal(address, `http://127.0.0.1:${port}`, 'defaults to 127.0.0.1')
  t.ok(port > 0, 'port 0 picked a free port')

  const moves: Array<[State, () => void]> = [
    [State.NOINFO, () => {}],
    [State.WARMUP, () => server.health.setStateWarmUp()],
    [State.WORK, () => server.health.setStateWorking()],
    [State.SHUTDOWN, () => server.health.setStateShutDown()],
    [State.NOINFO, () => server.health.setStateNoInfo()],
    [State.WORK, () => server.health.setState(State.WORK)]
  ]
  for (const [state, move] of moves) {
    move()
    const get = await request(`${address}/health`)
    assertAnswer(t, get, state, { serviceId: 'worker' })
    t.equal(get.headers.get('content-type'), CONTENT_TYPE)
    t.equal(get.headers.get('cache-control'), 'max-age=5')
    const head = await request(`${address}/health`, 'HEAD')
    t.equal(head.statusCode, get.statusCode, 'HEAD: same status code')
    t.equal(head.text, '', 'HEAD: no body')
    t.equal(head.headers.get('content-length'), String(Buffer.byteLength(get.text)))
    t.strictSame(await server.health.report(), { statusCode: get.statusCode, body: get.body })
  }
})

test('the plugin options are honoured', async (t) => {
  const links = { runbook: 'https://example.com/runbook' }
  const server = healthServer(t, {
    serviceName: 'worker',
    host: '127.0.0.1',
    port: 0,
    prefix: '/ops/',
    path: '/ready',
    version: '3',
    releaseId: 'r42',
    description: 'Queue worker',
    links,
    exposeDetails: true,
    initialState: State.WORK,
    cacheControl: 'max-age=1',
    statusCodes: { pass: 203, warn: 299, fail: 500 }
  })
  const address = await server.listen()
  const fields = { serviceId: 'worker', version: '3', releaseId: 'r42', description: 'Queue worker', links }
  let get = await request(`${address}/ops/ready`)
  assertAnswer(t, get, State.WORK, { ...fields, statusCode: 203 })
  t.equal(get.headers.get('cache-control'), 'max-age=1')
  server.health.setStateWarmUp()
  get = await request(`${address}/ops/ready`)
  assertAnswer(t, get, State.WARMUP, { ...fields, statusCode: 299 })
  server.health.setStateNoInfo()
  get = await request(`${address}/ops/ready`)
  assertAnswer(t, get, State.NOINFO, { ...fields, statusCode: 500 })
  t.equal((await request(`${address}/health`)).statusCode, 404)
})

test('defaults: host 127.0.0.1 and port 8008', async (t) => {
  const server = healthServer(t, { serviceName: 'worker' })
  // Checked on the call Fastify receives, so that the test never binds the fixed port 8008.
  let received: unknown
  Object.assign(server.fastify, {
    listen: async (options: unknown) => { received = options; return 'http://127.0.0.1:8008' }
  })
  t.equal(await server.listen(), 'http://127.0.0.1:8008')
  t.strictSame(received, { host: '127.0.0.1', port: 8008 })
})

test('a taken port rejects listen() with FST_HEALTH_LISTEN_FAILED and leaves the instance closed', async (t) => {
  const blocker = createServer()
  blocker.listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)))
  const { port } = blocker.address() as AddressInfo

  const { lines, stream } = logStream()
  const server = healthServer(t, { serviceName: 'worker', port, logger: { level: 'info', stream } })
  server.health.setStateWorking()
  let closed = false
  server.fastify.addHook('onClose', async () => { closed = true })

  const error = await server.listen().then(() => undefined, (error: unknown) => error) as
    (Error & { code?: string, cause?: Error & { code?: string } }) | undefined
  t.ok(error, 'listen() rejects')
  t.equal(error?.code, 'FST_HEALTH_LISTEN_FAILED')
  t.match(error?.message, `127.0.0.1:${port}`, 'names the address')
  t.match(error?.message, 'EADDRINUSE', 'gives the reason')
  t.equal(error?.cause?.code, 'EADDRINUSE', 'keeps the original error as cause')

  t.equal(closed, true, 'the Fastify instance was closed')
  t.equal(server.fastify.server.listening, false, 'nothing listens')
  t.equal(server.health.state, State.SHUTDOWN, 'the state says so')
  t.strictSame(stateChanges(lines).at(-1), { from: State.WORK, to: State.SHUTDOWN })
  t.equal((blocker.address() as AddressInfo).port, port, 'the other server still owns the port')
  await t.resolves(server.close(), 'close() after a failed listen() is harmless')
})

test('createHealthServer validates its own options and the plugin options', async (t) => {
  const cases: Array<[unknown, string, string]> = [
    [undefined, 'FST_HEALTH_INVALID_OPTION', 'options'],
    [null, 'FST_HEALTH_INVALID_OPTION', 'options'],
    ['worker', 'FST_HEALTH_INVALID_OPTION', 'options'],
    [42, 'FST_HEALTH_INVALID_OPTION', 'options'],
    [{ serviceName: 'worker', host: '' }, 'FST_HEALTH_INVALID_OPTION', 'host'],
    [{ serviceName: 'worker', host: 127001 }, 'FST_HEALTH_INVALID_OPTION', 'host'],
    [{ serviceName: 'worker', host: null }, 'FST_HEALTH_INVALID_OPTION', 'host'],
    [{ serviceName: 'worker', port: -1 }, 'FST_HEALTH_INVALID_OPTION', 'port'],
    [{ serviceName: 'worker', port: 65536 }, 'FST_HEALTH_INVALID_OPTION', 'port'],
    [{ serviceName: 'worker', port: 80.5 }, 'FST_HEALTH_INVALID_OPTION', 'port'],
    [{ serviceName: 'worker', port: '8008' }, 'FST_HEALTH_INVALID_OPTION', 'port'],
    [{ serviceName: 'worker', port: Number.NaN }, 'FST_HEALTH_INVALID_OPTION', 'port'],
    [{ serviceName: 'worker', port: null }, 'FST_HEALTH_INVALID_OPTION', 'port'],
    [{}, 'FST_HEALTH_INVALID_OPTION', 'serviceName'],
    [{ port: 0 }, 'FST_HEALTH_INVALID_OPTION', 'serviceName'],
    [{ serviceName: '' }, 'FST_HEALTH_INVALID_OPTION', 'serviceName'],
    [{ serviceName: 'worker', path: 'health' }, 'FST_HEALTH_INVALID_OPTION', 'path'],
    [{ serviceName: 'worker', statusCodes: { fail: 200 } }, 'FST_HEALTH_INVALID_OPTION', 'statusCodes'],
    [{ serviceName: 'worker', links: { self: 'nope' } }, 'FST_HEALTH_INVALID_OPTION', 'links'],
    [{ serviceName: 'worker', initialState: 'Running' }, 'FST_HEALTH_INVALID_OPTION', 'initialState'],
    [{ serviceName: 'worker', bogus: true }, 'FST_HEALTH_UNKNOWN_OPTION', 'bogus']
  ]
  for (const [options, code, option] of cases) {
    const name = `${JSON.stringify(options) ?? String(options)} -> ${option}`
    const error = t.throws(() => createHealthServer(options as HealthServerOptions), { code }, name) as Error
    t.match(error.message, `"${option}"`, `${name}: names the option`)
  }
})

test('the port bounds 0 and 65535 and an explicit host are accepted', async (t) => {
  for (const options of [{ port: 0 }, { port: 65535 }, { host: 'localhost' }, { host: undefined, port: undefined }]) {
    t.doesNotThrow(() => healthServer(t, { serviceName: 'worker', ...options }), JSON.stringify(options))
  }
})

test('logger: off by default, true, pino options, or a pino instance', async (t) => {
  await t.test('off by default and with false', async (t) => {
    const pinoLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace']
    for (const options of [{ serviceName: 'worker' }, { serviceName: 'worker', logger: false }]) {
      const { level } = healthServer(t, options).fastify.log
      t.notOk(pinoLevels.includes(level), `${JSON.stringify(options)}: no active logger (level ${String(level)})`)
    }
  })

  await t.test('true: Fastify\'s default logger', async (t) => {
    const server = healthServer(t, { serviceName: 'worker', logger: true })
    t.equal(server.fastify.log.level, 'info')
    // Keep the standard output of this test clean from here on.
    server.fastify.log.level = 'silent'
  })

  await t.test('pino options', async (t) => {
    const { lines, stream } = logStream()
    const server = healthServer(t, { serviceName: 'worker', port: 0, logger: { level: 'info', stream } })
    const address = await server.listen()
    server.health.setStateWarmUp()
    await request(`${address}/health`)
    server.health.setStateWorking()
    await server.close()
    t.strictSame(stateChanges(lines), [
      { from: State.NOINFO, to: State.WARMUP },
      { from: State.WARMUP, to: State.WORK },
      { from: State.WORK, to: State.SHUTDOWN }
    ], 'each state change once')
  })

  await t.test('a pino instance', async (t) => {
    const { lines, stream } = logStream()
    const logger = pino({ level: 'info' }, stream)
    const server = healthServer(t, { serviceName: 'worker', port: 0, logger, logLevel: 'info' })
    const address = await server.listen()
    server.health.setStateWorking()
    const get = await request(`${address}/health`)
    assertAnswer(t, get, State.WORK, { serviceId: 'worker' })
    t.strictSame(stateChanges(lines), [{ from: State.NOINFO, to: State.WORK }], 'the state change went to that logger')
    t.ok(lines.some((line) => 'reqId' in line), 'so did the request logs (logLevel info brings them back)')
  })
})

test('close() sets Shutting down and stops the server', async (t) => {
  const { lines, stream } = logStream()
  const server = healthServer(t, { serviceName: 'worker', port: 0, logger: { level: 'info', stream } })
  const address = await server.listen()
  server.health.setStateWorking()
  await server.close()
  t.equal(server.health.state, State.SHUTDOWN)
  t.equal(server.fastify.server.listening, false)
  t.strictSame(stateChanges(lines), [
    { from: State.NOINFO, to: State.WORK },
    { from: State.WORK, to: State.SHUTDOWN }
  ])
  const report = await server.health.report()
  assertAnswer(t, report, State.SHUTDOWN, { serviceId: 'worker' })
  await t.rejects(request(`${address}/health`), 'no longer answers')
})

test('close() before listen() also sets Shutting down', async (t) => {
  const server = healthServer(t, { serviceName: 'worker', port: 0 })
  await server.close()
  t.equal(server.health.state, State.SHUTDOWN)
})

test('routes and hooks can be added to the instance before listen()', async (t) => {
  const server = healthServer(t, { serviceName: 'worker', port: 0 })
  server.fastify.get('/ping', async () => 'pong')
  const address = await server.listen()
  t.equal((await request(`${address}/health`)).statusCode, 503)
  t.equal(await (await fetch(`${address}/ping`)).text(), 'pong')
})

test('the plugin cannot be registered a second time on the instance', async (t) => {
  const server = healthServer(t, { serviceName: 'worker', port: 0 })
  server.fastify.register(fastifyHealth, 'again')
  await t.rejects(server.listen(), { code: 'FST_HEALTH_LISTEN_FAILED', cause: { code: 'FST_HEALTH_ALREADY_REGISTERED' } },
    'listen() fails with the registration error as cause')
  t.equal(server.fastify.server.listening, false)
})
