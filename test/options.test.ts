// Every plugin option is checked when the plugin registers: what each accepts, what it refuses
// (failing registration with an error code that names the option), and the register options
// of Fastify's own that the plugin honours.
import { setTimeout as sleep } from 'node:timers/promises'
import { type Test, test } from 'tap'
import Fastify from 'fastify'
import fastifyHealth, { type FastifyHealthOptions, type ProcessChecksOptions, State } from '../lib/index.js'
import { assertAnswer, loggedApp, newApp, schemaErrors, stateChanges } from './helpers.js'

/** The error a registration fails with; fails the test when it does not fail. */
async function registrationError (t: Test, options: unknown): Promise<Error & { code?: string }> {
  const app = newApp(t)
  try {
    await app.register(fastifyHealth, options as FastifyHealthOptions)
  } catch (error) {
    return error as Error & { code?: string }
  }
  t.fail(`registration with ${String(options)} should fail`)
  return new Error('did not fail')
}

test('statusCodes: codes that cannot carry a body are refused', async (t) => {
  for (const [status, code] of [['pass', 204], ['warn', 205], ['warn', 304]] as const) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', statusCodes: { [status]: code } }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"statusCodes".*cannot carry the health document/ }, `${status}: ${code}`)
  }
})

test('shutdownDelay must be whole milliseconds within a timer\'s range', async (t) => {
  for (const value of [-1, 1.5, 2 ** 31, '100', Number.NaN]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', shutdownDelay: value as number }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"shutdownDelay" must be an integer number of milliseconds from 0/ }, String(value))
  }
  const app = Fastify()
  t.teardown(() => app.close())
  let closed = false
  app.addHook('onClose', async () => { closed = true })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', shutdownDelay: 0 })
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
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', logLevel: value as 'info' }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"logLevel" must be one of fatal, error, warn, info, debug, trace, silent/ }, String(value))
  }
})

test('probes: a boolean, or paths per probe; anything else fails naming the option', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    ['yes', /"probes" must be a boolean or \{ live, ready, started \}/],
    [{ healthy: '/h' }, /"probes" has an unknown probe "healthy"/],
    [{ ready: 'ready' }, /"probes" sets ready to a path that starts with "\/"/],
    [{ live: 42 }, /"probes" sets live to a path that starts with "\/"/],
    // A parameter or a wildcard would make a parametric route that answers for any path.
    [{ ready: '/health/:probe' }, /"probes" sets ready to a path that starts with "\/", with no ":", "\*"/],
    [{ live: '/health/*' }, /"probes" sets live to a path that starts with "\/", with no ":", "\*"/]
  ]
  for (const [value, message] of bad) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', probes: value as false }) },
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
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', probes: value })
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

test('options set to undefined are left out, as if not given', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    path: undefined,
    version: undefined,
    releaseId: undefined,
    description: undefined,
    links: undefined,
    initialState: undefined,
    cacheControl: undefined,
    statusCodes: undefined,
    prefix: undefined,
    logLevel: undefined
  })
  const res = await app.inject('/health')
  assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.NOINFO, { serviceId: 'orders' })
  t.equal(res.headers['cache-control'], 'max-age=5')
})

test('options may be given as a function of the parent instance, as Fastify allows', async (t) => {
  const app = newApp(t)
  app.decorate('serviceName', 'orders')
  await app.register(fastifyHealth, (parent) => ({ serviceName: (parent as unknown as { serviceName: string }).serviceName }))
  const res = await app.inject('/health')
  assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.NOINFO, { serviceId: 'orders' })
})

test('Fastify\'s logSerializers register option is accepted', async (t) => {
  const app = newApp(t)
  const options = { serviceName: 'orders', logSerializers: { req: () => 'request' } }
  await app.register(fastifyHealth, options as FastifyHealthOptions)
  t.equal((await app.inject('/health')).statusCode, 503)
})

test('statusCodes: out-of-range or ill-typed codes fail at registration', async (t) => {
  const cases: Array<[unknown, RegExp[]]> = [
    [{ pass: 199 }, [/pass/, /200-399/]],
    [{ pass: 400 }, [/pass/, /200-399/]],
    [{ warn: 199 }, [/warn/, /200-399/]],
    [{ warn: 503 }, [/warn/, /200-399/]],
    [{ fail: 399 }, [/fail/, /400-599/]],
    [{ fail: 600 }, [/fail/, /400-599/]],
    [{ fail: 200 }, [/fail/, /400-599/]],
    [{ pass: 200.5 }, [/pass/]],
    [{ pass: '200' }, [/pass/]],
    [{ pass: Number.NaN }, [/pass/]],
    [{ pass: null }, [/pass/]],
    [{ pass: 200, warn: 202, fail: 503, ok: 200 }, [/"ok"/]],
    [{ PASS: 200 }, [/"PASS"/]],
    ['200', []],
    [200, []],
    [null, []],
    [[200, 202, 503], []]
  ]
  for (const [statusCodes, patterns] of cases) {
    const error = await registrationError(t, { serviceName: 'orders', statusCodes })
    const name = JSON.stringify(statusCodes)
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', name)
    t.match(error.message, '"statusCodes"', `${name}: names the option`)
    for (const pattern of patterns) t.match(error.message, pattern, `${name}: says ${String(pattern)}`)
  }
})

test('statusCodes: keys named like Object.prototype members are unknown statuses', async (t) => {
  for (const key of ['toString', 'constructor', 'hasOwnProperty']) {
    const app = newApp(t)
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', statusCodes: { [key]: 200 } }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"statusCodes"/ }, `statusCodes.${key} is rejected`)
  }
})

test('links: values must be URIs, keys relation names or URIs', async (t) => {
  const good: Array<Record<string, string>> = [
    { self: '/health' },
    { about: 'https://example.com/about' },
    { 'https://example.com/rel': 'http://127.0.0.1:8080/x' },
    { mail: 'mailto:ops@example.com' },
    {}
  ]
  for (const links of good) {
    const app = newApp(t)
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', links })
    const res = await app.inject('/health')
    t.strictSame(res.json().links, links, `accepted: ${JSON.stringify(links)}`)
    t.strictSame(schemaErrors(res.json()), [])
  }
  const bad: Array<[unknown, string | undefined]> = [
    [{ about: 'not a uri' }, 'about'],
    [{ about: 'example.com/about' }, 'about'],
    [{ about: '' }, 'about'],
    [{ self: '/health', about: 42 }, 'about'],
    [{ about: null }, 'about'],
    [{ about: ['https://example.com'] }, 'about'],
    [{ '': '/health' }, ''],
    // RFC 8288: a relation is a registered name (a lower-case token) or an absolute URI.
    [{ 'Not A Relation': '/health' }, 'Not A Relation'],
    [{ 'self<script>': '/health' }, 'self<script>'],
    [{ '/relative': '/health' }, '/relative'],
    ['https://example.com', undefined],
    [['https://example.com'], undefined],
    [null, undefined],
    [42, undefined]
  ]
  for (const [links, rel] of bad) {
    const error = await registrationError(t, { serviceName: 'orders', links })
    const name = JSON.stringify(links)
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', name)
    t.match(error.message, '"links"', `${name}: names the option`)
    if (rel !== undefined) t.match(error.message, `"${rel}"`, `${name}: names the link`)
  }
})

test('path: a static route, so no parameter or wildcard that would answer for other paths', async (t) => {
  for (const path of ['/health/:probe', '/*', '/health*', '/health/:name/x']) {
    const error = await registrationError(t, { serviceName: 'orders', path })
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', path)
    t.match(error.message, /"path" must be a path that starts with "\/", with no ":", "\*"/, `${path}: says why`)
  }
})

test('every ill-typed option fails at registration with FST_HEALTH_INVALID_OPTION naming it', async (t) => {
  const cases: Array<[unknown, string]> = [
    [42, 'options'],
    [true, 'options'],
    [['orders'], 'options'],
    [{}, 'serviceName'],
    [null, 'serviceName'],
    [{ serviceName: undefined }, 'serviceName'],
    ['', 'serviceName'],
    ['   ', 'serviceName'],
    [{ serviceName: '' }, 'serviceName'],
    [{ serviceName: ' \t' }, 'serviceName'],
    [{ serviceName: 42 }, 'serviceName'],
    [{ serviceName: null }, 'serviceName'],
    [{ serviceName: ['orders'] }, 'serviceName'],
    [{ serviceName: 'orders', path: 'health' }, 'path'],
    [{ serviceName: 'orders', path: '' }, 'path'],
    [{ serviceName: 'orders', path: 42 }, 'path'],
    [{ serviceName: 'orders', version: '' }, 'version'],
    [{ serviceName: 'orders', version: 1 }, 'version'],
    [{ serviceName: 'orders', releaseId: '' }, 'releaseId'],
    [{ serviceName: 'orders', releaseId: 123 }, 'releaseId'],
    [{ serviceName: 'orders', description: '' }, 'description'],
    [{ serviceName: 'orders', description: {} }, 'description'],
    [{ serviceName: 'orders', initialState: 'working' }, 'initialState'],
    [{ serviceName: 'orders', initialState: 'pass' }, 'initialState'],
    [{ serviceName: 'orders', initialState: 'WORK' }, 'initialState'],
    [{ serviceName: 'orders', initialState: null }, 'initialState'],
    [{ serviceName: 'orders', initialState: 1 }, 'initialState'],
    [{ serviceName: 'orders', cacheControl: '' }, 'cacheControl'],
    [{ serviceName: 'orders', cacheControl: 5 }, 'cacheControl'],
    [{ serviceName: 'orders', cacheControl: true }, 'cacheControl'],
    [{ serviceName: 'orders', cacheControl: ' ' }, 'cacheControl'],
    // Node would refuse these header values on every request: refused at registration instead.
    [{ serviceName: 'orders', cacheControl: 'max-age=5\r\nset-cookie: a=b' }, 'cacheControl'],
    [{ serviceName: 'orders', cacheControl: 'max-age=5\u0000' }, 'cacheControl'],
    [{ serviceName: 'orders', prefix: 'api' }, 'prefix'],
    [{ serviceName: 'orders', prefix: 5 }, 'prefix'],
    [{ serviceName: 'orders', prefix: null }, 'prefix'],
    [{ serviceName: 'orders', logLevel: '' }, 'logLevel'],
    [{ serviceName: 'orders', logLevel: 30 }, 'logLevel']
  ]
  for (const [options, option] of cases) {
    const error = await registrationError(t, options)
    const name = `${JSON.stringify(options)} -> ${option}`
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', name)
    t.ok(error instanceof TypeError, `${name}: a TypeError`)
    t.match(error.message, `"${option}"`, `${name}: names the option`)
  }
})

test('an unknown option fails at registration with FST_HEALTH_UNKNOWN_OPTION naming it', async (t) => {
  for (const key of ['bogus', 'servicename', 'cache_control', 'status']) {
    const error = await registrationError(t, { serviceName: 'orders', [key]: 'x' })
    t.equal(error.code, 'FST_HEALTH_UNKNOWN_OPTION', key)
    t.ok(error instanceof TypeError, `${key}: a TypeError`)
    t.match(error.message, `"${key}"`, `${key}: names the option`)
  }
})

test('an unknown option named like an Object.prototype member fails with FST_HEALTH_UNKNOWN_OPTION', async (t) => {
  for (const key of ['toString', 'constructor', 'hasOwnProperty', 'valueOf']) {
    const error = await registrationError(t, { serviceName: 'orders', [key]: 1 })
    t.equal(error.code, 'FST_HEALTH_UNKNOWN_OPTION', `${key}: FST_HEALTH_UNKNOWN_OPTION`)
    t.match(error.message, `"${key}"`, `${key}: names the option`)
  }
})

test('logLevel: the level of the health routes\' request logs, not of state changes', async (t) => {
  await t.test('logLevel info: requests are logged', async (t) => {
    const { app, lines } = loggedApp(t)
    await app.register(fastifyHealth, { serviceName: 'orders', logLevel: 'info' })
    await app.inject('/health')
    t.ok(lines.some((line) => 'reqId' in line), 'request log lines')
  })
  await t.test('by default: GET and HEAD are not logged (probes come every few seconds), state changes are', async (t) => {
    const { app, lines } = loggedApp(t)
    app.get('/other', async () => 'ok')
    await app.register(fastifyHealth, 'orders')
    await app.inject('/other')
    t.ok(lines.some((line) => 'reqId' in line), 'the app\'s own routes keep their request lines')
    lines.splice(0)
    await app.inject('/health')
    await app.inject({ method: 'HEAD', url: '/health' })
    app.health.setStateWorking()
    t.strictSame(lines.filter((line) => 'reqId' in line), [], 'no request log lines')
    t.strictSame(stateChanges(lines), [{ from: State.NOINFO, to: State.WORK }])
  })
})

test('logSerializers: the serializers of the health routes\' request logs, as Fastify applies them to a route', async (t) => {
  const { app, lines } = loggedApp(t)
  app.get('/other', async () => 'ok')
  await app.register(fastifyHealth, { serviceName: 'orders', logLevel: 'info', logSerializers: { req: (request: { url: string }) => ({ seen: request.url }) as never } })
  await app.inject('/health')
  await app.inject('/other')
  const incoming = lines.filter((line) => line.msg === 'incoming request')
  t.strictSame(incoming.map((line) => line.req), [{ seen: '/health' }, incoming[1]?.req], 'the health route logs with the given serializer')
  t.match(incoming[1]?.req, { method: 'GET', url: '/other' }, 'other routes keep the instance\'s serializers')
  t.not((incoming[1]?.req as { seen?: string }).seen, '/other')
  for (const bad of [{ req: 'x' }, 'x', [() => 1]]) {
    await t.rejects(async () => { await newApp(t).register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', logSerializers: bad as never }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"logSerializers" must be an object of serializer functions/ }, JSON.stringify(bad))
  }
})

test('logLevel: a string that is no log level fails at registration with FST_HEALTH_INVALID_OPTION', async (t) => {
  for (const withLogger of [false, true]) {
    const app = withLogger ? loggedApp(t).app : newApp(t)
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', logLevel: 'bogus' as 'info' }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: /"logLevel"/ }, `logLevel "bogus", logger: ${String(withLogger)}`)
  }
})

test('process options are validated at registration', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /must be a boolean or an object of process check settings/],
    [5, /must be a boolean or an object/],
    [[], /must be a boolean or an object/],
    [null, /must be a boolean or an object/],
    [{ cpu: true }, /has an unknown setting "cpu"/],
    [{ uptime: 'on' }, /sets uptime to something other than a boolean or \{ warn, fail \} numbers/],
    [{ uptime: { minimum: 5 } }, /sets uptime/],
    [{ uptime: { warn: '5' } }, /sets uptime/],
    [{ eventLoopDelay: { warn: Infinity } }, /sets eventLoopDelay/],
    [{ eventLoopDelay: { fail: Number.NaN } }, /sets eventLoopDelay/],
    [{ eventLoopUtilization: [90] }, /sets eventLoopUtilization/],
    [{ eventLoopUtilization: null }, /sets eventLoopUtilization/],
    [{ memory: 'on' }, /sets memory to something other than a boolean or \{ heapUsed, rss \} thresholds/],
    [{ memory: { heapUsed: true } }, /sets memory/],
    [{ memory: { heap: { warn: 1 } } }, /sets memory/],
    [{ memory: { rss: { warn: 'x' } } }, /sets memory/],
    [{ memory: { rss: 5 } }, /sets memory/],
    [{ interval: 0 }, /sets interval to something other than milliseconds from 1/],
    [{ interval: 1.5 }, /sets interval/],
    [{ interval: 2 ** 31 }, /sets interval/],
    [{ interval: '5s' }, /sets interval/],
    [{ critical: 'no' }, /sets critical to something other than a boolean/],
    [{ probes: 'live' }, /sets probes to something other than an array of "live" and "ready"/],
    [{ probes: ['started'] }, /sets probes/]
  ]
  for (const [setting, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', process: setting as never }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: new RegExp('option "process" ' + message.source) }, JSON.stringify(setting))
  }
  const all = ['uptime', 'eventloop:delay', 'eventloop:utilization', 'memory:utilization']
  const fine: Array<[ProcessChecksOptions, string[]]> = [
    [{ interval: 1, critical: true, probes: [] }, all],
    [{ uptime: { warn: undefined, fail: 3 }, memory: { heapUsed: undefined, rss: {} }, eventLoopDelay: {}, eventLoopUtilization: false },
      ['uptime', 'eventloop:delay', 'memory:utilization']],
    [{ interval: undefined, critical: undefined, probes: undefined, memory: undefined }, all]
  ]
  for (const [setting, checks] of fine) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', process: setting })
    const { body } = await app.health.report()
    t.same(Object.keys(body.checks ?? {}), checks, `accepted: ${JSON.stringify(setting)}, and the checks are the ones it turns on`)
    if (setting.probes !== undefined) {
      const ready = (await app.inject('/health/ready')).json() as { checks?: Record<string, unknown> }
      t.same(Object.keys(ready.checks ?? {}), [], 'probes: []: the readiness probe counts none of them')
    }
  }
})

test('autoChecks options are checked at registration', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /"autoChecks" must be a boolean or an object of check options/],
    [{ retries: 2 }, /"autoChecks" has an unknown check option "retries"/],
    [{ timeout: 0 }, /"autoChecks" sets timeout: it must be an integer number of milliseconds from 1/],
    [{ probes: ['started'] }, /"autoChecks" sets probes: it must be an array of "live" and "ready"/],
    [{ warn: -1 }, /"autoChecks" sets warn to -1/],
    [{ warn: 100, fail: 10 }, /warn must come before fail/]
  ]
  for (const [autoChecks, message] of cases) {
    await t.rejects(async () => { await newApp(t).register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', autoChecks: autoChecks as never }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message }, JSON.stringify(autoChecks))
  }
})

test('groups: every mistake fails at registration with FST_HEALTH_INVALID_OPTION naming the group', async (t) => {
  const selectors = 'which is not a check name, a "component:*" pattern or "tag:<tag>"'
  const keysList = 'include, exclude, path, exposeDetails, statusCodes'
  const cases: Array<[unknown, unknown, string, string]> = [
    // [groups, probes, the option named, what it says]
    ['db', undefined, 'groups', 'must be an object of group name to { include, exclude, path, exposeDetails, statusCodes }'],
    [['db'], undefined, 'groups', 'must be an object of group name to { include, exclude, path, exposeDetails, statusCodes }'],
    [null, undefined, 'groups', 'must be an object of group name to { include, exclude, path, exposeDetails, statusCodes }'],
    [{ db: true }, undefined, 'groups.db', `must be an object { ${keysList} }`],
    [{ db: null }, undefined, 'groups.db', `must be an object { ${keysList} }`],
    [{ db: ['db:*'] }, undefined, 'groups.db', `must be an object { ${keysList} }`],
    [{ db: { includes: ['db:*'] } }, undefined, 'groups.db', `has an unknown option "includes" (expected ${keysList})`],
    [{ db: { toString: 1 } }, undefined, 'groups.db', `has an unknown option "toString" (expected ${keysList})`],
    [{ db: { include: 'db:*' } }, undefined, 'groups.db.include', 'must be an array of check names, "component:*" patterns and "tag:<tag>" selectors'],
    [{ db: { include: ['db:*', 42] } }, undefined, 'groups.db.include', `has 42, ${selectors}`],
    [{ db: { include: [undefined] } }, undefined, 'groups.db.include', `has undefined, ${selectors}`],
    [{ db: { include: [{}] } }, undefined, 'groups.db.include', `has an object, ${selectors}`],
    [{ db: { include: ['a:b:c'] } }, undefined, 'groups.db.include', `has "a:b:c", ${selectors}`],
    [{ db: { include: [''] } }, undefined, 'groups.db.include', `has "", ${selectors}`],
    [{ db: { include: [':'] } }, undefined, 'groups.db.include', `has ":", ${selectors}`],
    [{ db: { include: [':*'] } }, undefined, 'groups.db.include', `has ":*", ${selectors}`],
    [{ db: { include: ['a:b:*'] } }, undefined, 'groups.db.include', `has "a:b:*", ${selectors}`],
    [{ db: { include: ['tag:'] } }, undefined, 'groups.db.include', `has "tag:", ${selectors}`],
    [{ db: { include: ['tag: '] } }, undefined, 'groups.db.include', `has "tag: ", ${selectors}`],
    [{ db: { exclude: ['db::x'] } }, undefined, 'groups.db.exclude', `has "db::x", ${selectors}`],
    [{ db: { path: 'db' } }, undefined, 'groups.db.path', 'must be a path that starts with "/", with no ":", "*", "?", "#", "%", white space or control character'],
    [{ db: { path: 42 } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health/:id' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health/*' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health?x' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health#x' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health db' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health%20db' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { path: '/health\u0000' } }, undefined, 'groups.db.path', 'must be a path that starts with "/"'],
    [{ db: { exposeDetails: 'yes' } }, undefined, 'groups.db.exposeDetails', 'must be a boolean or a function of the request'],
    [{ db: { statusCodes: { warn: 500 } } }, undefined, 'groups.db.statusCodes', 'sets warn to 500: the draft requires an integer in 200-399'],
    [{ db: { statusCodes: { ok: 200 } } }, undefined, 'groups.db.statusCodes', 'has an unknown status "ok" (expected pass, warn or fail)'],
    [{ db: { statusCodes: { pass: 204 } } }, undefined, 'groups.db.statusCodes', 'sets pass to 204, a code that cannot carry the health document'],
    [{ health: {} }, undefined, 'groups.health', 'is the health document itself: its path, exposeDetails and statusCodes are the plugin\'s options'],
    [{ '': {} }, undefined, 'groups.', 'has a name that is not letters, digits, "-", "_" and "." (from a letter or digit)'],
    [{ 'db/x': {} }, undefined, 'groups.db/x', 'has a name that is not letters, digits, "-", "_" and "." (from a letter or digit)'],
    [{ '-db': {} }, undefined, 'groups.-db', 'has a name that is not letters, digits, "-", "_" and "." (from a letter or digit)'],
    [{ 'd b': {} }, undefined, 'groups.d b', 'has a name that is not letters, digits, "-", "_" and "." (from a letter or digit)'],
    [JSON.parse('{ "__proto__": {} }'), undefined, 'groups.__proto__', 'has a name that is not letters, digits, "-", "_" and "." (from a letter or digit)'],
    [{ ready: { include: ['db:*'] } }, false, 'groups.ready', 'redefines the ready probe, which the probes option turns off'],
    [{ live: {} }, { live: false }, 'groups.live', 'redefines the live probe, which the probes option turns off'],
    [{ ready: { path: '/r' } }, { ready: '/readyz' }, 'groups.ready.path', 'is set, and so is probes.ready: give the path in one place']
  ]
  for (const [groups, probes, option, problem] of cases) {
    const error = await registrationError(t, { serviceName: 'orders', groups, ...(probes === undefined ? {} : { probes }) })
    const name = `${JSON.stringify(groups)} -> ${option}`
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', name)
    t.ok(error instanceof TypeError, `${name}: a TypeError`)
    t.match(error.message, `fastify-health: option "${option}" ${problem}`, `${name}: names the group and says what is wrong`)
  }
})

test('groups: what is accepted', async (t) => {
  const fine: Array<[unknown, unknown, Record<string, number>]> = [
    // [groups, probes, url -> code]
    [{}, undefined, { '/health': 503, '/health/ready': 503 }],
    [{ db: undefined }, undefined, { '/health': 503, '/health/db': 404 }],
    [{ 'db_1.x-y': { include: undefined, exclude: undefined, path: undefined, exposeDetails: undefined, statusCodes: undefined } }, undefined,
      { '/health/db_1.x-y': 503 }],
    [{ db: { include: ['db:*', 'db', 'tag:a b', 'tag:tag:x', ':responseTime', 'db:'], path: '/db-x/santé' } }, undefined, { '/db-x/sant%C3%A9': 503 }],
    [{ ready: { include: [] } }, { ready: '/readyz' }, { '/readyz': 503, '/health/ready': 404 }],
    [{ ready: { path: '/r' } }, true, { '/r': 503, '/health/ready': 404 }],
    [{ live: { path: '/l' } }, { ready: false }, { '/l': 200, '/health/ready': 404 }],
    [{ Db: {}, db: {} }, undefined, { '/health/Db': 503, '/health/db': 503 }]
  ]
  for (const [groups, probes, codes] of fine) {
    const app = newApp(t)
    await app.register(fastifyHealth, {
      exposeDetails: true,
      serviceName: 'orders',
      checks: { db: () => undefined },
      groups,
      ...(probes === undefined ? {} : { probes })
    } as FastifyHealthOptions)
    await app.ready()
    const got: Record<string, number> = {}
    for (const url of Object.keys(codes)) got[url] = (await app.inject(url)).statusCode
    t.same(got, codes, `accepted: ${JSON.stringify(groups)}, probes ${JSON.stringify(probes)}`)
  }
})

test('drillDown must be a boolean', async (t) => {
  for (const value of ['no', 0, null, {}]) {
    const error = await registrationError(t, { serviceName: 'orders', drillDown: value })
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', JSON.stringify(value))
    t.equal(error.message, 'fastify-health: option "drillDown" must be a boolean', JSON.stringify(value))
  }
})

test('autoChecks: true and false are accepted', async (t) => {
  for (const autoChecks of [true, false]) {
    const app = newApp(t)
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', autoChecks })
    await app.ready()
    t.equal((await app.inject('/health')).statusCode, 503, `autoChecks: ${String(autoChecks)}, no datastore plugin: the state alone`)
  }
})

test('routeOptions: config, constraints and hooks only; anything else fails naming it', async (t) => {
  const taken = 'config, constraints, onRequest, preValidation, preHandler, onSend, onResponse, onError, onTimeout, onRequestAbort'
  const bad: Array<[unknown, string]> = [
    ['public', `must be an object of route options (${taken})`],
    [[], `must be an object of route options (${taken})`],
    [{ handler: () => {} }, `has "handler", which the health routes do not take (they take ${taken})`],
    [{ url: '/elsewhere' }, `has "url", which the health routes do not take (they take ${taken})`],
    [{ bodyLimit: 10 }, `has "bodyLimit", which the health routes do not take (they take ${taken})`],
    [{ config: 'public' }, 'sets config: it must be an object (the route config, merged over the plugin\'s)'],
    [{ config: null }, 'sets config: it must be an object (the route config, merged over the plugin\'s)'],
    [{ constraints: [] }, 'sets constraints: it must be an object of route constraints (version, host, ...)'],
    [{ onRequest: 'auth' }, 'sets onRequest: it must be a function or a non-empty array of functions'],
    [{ preHandler: [] }, 'sets preHandler: it must be a function or a non-empty array of functions'],
    [{ onSend: [() => {}, 42] }, 'sets onSend: it must be a function or a non-empty array of functions']
  ]
  for (const [value, problem] of bad) {
    const error = await registrationError(t, { serviceName: 'orders', routeOptions: value })
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', JSON.stringify(value))
    t.equal(error.message, `fastify-health: option "routeOptions" ${problem}`, JSON.stringify(value))
  }
  // Undefined keys are left out, as options are; the plugin's config stays under the user's.
  let seen: Record<string, unknown> | undefined
  const app = newApp(t)
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    routeOptions: { config: { mine: 1 }, onRequest: undefined, preHandler: [async (request) => { seen = { ...request.routeOptions.config } }] }
  })
  t.equal((await app.inject('/health/ready')).statusCode, 200)
  t.match(seen, { mine: 1, health: true, rateLimit: false, url: '/health/ready', method: 'GET' }, 'the config: the user\'s, the plugin\'s and Fastify\'s')
  t.type(seen?.pressureHandler, 'function', 'with the pressure handler for @fastify/under-pressure')
})

test('openTelemetry: a boolean or { meterProvider } with getMeter(); anything else fails naming the option', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    ['yes', 'FST_HEALTH_INVALID_OPTION', /option "openTelemetry" must be a boolean or \{ meterProvider \}/],
    [[], 'FST_HEALTH_INVALID_OPTION', /option "openTelemetry" must be a boolean or \{ meterProvider \}/],
    [{ meterProvider: {} }, 'FST_HEALTH_INVALID_OPTION', /option "openTelemetry" sets meterProvider: it must be an OpenTelemetry MeterProvider \(with getMeter\(\)\)/],
    [{ meterProvider: null }, 'FST_HEALTH_INVALID_OPTION', /sets meterProvider: it must be an OpenTelemetry MeterProvider/],
    [{ provider: {} }, 'FST_HEALTH_INVALID_OPTION', /option "openTelemetry" has an unknown option "provider" \(expected meterProvider\)/]
  ]
  for (const [value, code, message] of cases) {
    const error = await registrationError(t, { serviceName: 'orders', openTelemetry: value })
    t.equal(error.code, code, JSON.stringify(value))
    t.match(error.message, message)
  }
  for (const value of [false, {}, { meterProvider: undefined }]) {
    const app = newApp(t)
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', openTelemetry: value as FastifyHealthOptions['openTelemetry'] })
    t.equal((await app.inject('/health')).statusCode, 503, `${JSON.stringify(value)} is fine: the plugin serves`)
  }
})

test('prometheus: { registry } with a prom-client Registry; anything else fails naming the option', async (t) => {
  const registryLike = { registerMetric: () => {}, getSingleMetric: () => undefined, removeSingleMetric: () => {} }
  const cases: Array<[unknown, RegExp]> = [
    [true, /option "prometheus" must be \{ registry \}, a prom-client Registry/],
    [{}, /option "prometheus" needs registry, a prom-client Registry/],
    [{ registry: undefined }, /option "prometheus" needs registry/],
    [{ registry: {} }, /option "prometheus" sets registry: it must be a prom-client Registry \(with registerMetric\(\), getSingleMetric\(\) and removeSingleMetric\(\)\)/],
    [{ registry: { ...registryLike, removeSingleMetric: 1 } }, /sets registry: it must be a prom-client Registry/],
    [{ registry: registryLike, prefix: 'app_' }, /option "prometheus" has an unknown option "prefix" \(expected registry\)/]
  ]
  for (const [value, message] of cases) {
    const error = await registrationError(t, { serviceName: 'orders', prometheus: value })
    t.equal(error.code, 'FST_HEALTH_INVALID_OPTION', JSON.stringify(value))
    t.match(error.message, message)
  }
})
