// The core plugin through Fastify's inject: states, answers, headers, logging, options and errors.
import { type FastifyInstance } from 'fastify'
import { test } from 'tap'
import fastifyHealth, {
  DEFAULT_CACHE_CONTROL, DEFAULT_STATUS_CODES, HEALTH_CONTENT_TYPE, State, Status,
  type FastifyHealthOptions, fastifyHealth as namedExport
} from '../lib/index.js'
import { stateStatus, worstStatus } from '../lib/states.js'
import { assertAnswer, CONTENT_TYPE, loggedApp, newApp, schemaErrors, stateChanges } from './helpers.js'

const ALL_STATES = [State.WARMUP, State.WORK, State.SHUTDOWN, State.NOINFO]

test('exports: the plugin under both names, wrapped with fastify-plugin, and the constants', async (t) => {
  t.equal(typeof fastifyHealth, 'function')
  t.equal(namedExport, fastifyHealth, 'the default export is the named export')
  const meta = fastifyHealth as unknown as Record<symbol, unknown>
  t.equal(meta[Symbol.for('skip-override')], true, 'fastify-plugin: no encapsulation')
  t.equal(meta[Symbol.for('fastify.display-name')], 'fastify-health')
  t.match(meta[Symbol.for('plugin-meta')], { name: 'fastify-health', fastify: '5.x' })

  t.strictSame({ ...State }, {
    WARMUP: 'Warming up', WORK: 'Working', SHUTDOWN: 'Shutting down', NOINFO: 'No information'
  })
  t.strictSame({ ...Status }, { PASS: 'pass', WARN: 'warn', FAIL: 'fail' })
  t.equal(DEFAULT_CACHE_CONTROL, 'max-age=5')
  t.strictSame({ ...DEFAULT_STATUS_CODES }, { pass: 200, warn: 202, fail: 503 })
  t.equal(HEALTH_CONTENT_TYPE, CONTENT_TYPE)
})

test('fastify.health shows its public members only, and starts as No information', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders' })
  t.strictSame(Reflect.ownKeys(app.health).sort(), [
    'addCheck', 'history', 'onChange', 'removeCheck', 'report', 'setState', 'setStateNoInfo', 'setStateShutDown', 'setStateWarmUp', 'setStateWorking',
    'shutdown', 'state'
  ], 'no internals, no symbols')
  t.equal(app.health.state, State.NOINFO)
})

test('every state: GET status code, body and headers, HEAD, report()', async (t) => {
  const cases: Array<[string, State, (app: FastifyInstance) => void]> = [
    ['default', State.NOINFO, () => {}],
    ['setStateWarmUp()', State.WARMUP, (app) => app.health.setStateWarmUp()],
    ['setStateWorking()', State.WORK, (app) => app.health.setStateWorking()],
    ['setStateShutDown()', State.SHUTDOWN, (app) => app.health.setStateShutDown()],
    ['setStateNoInfo()', State.NOINFO, (app) => { app.health.setStateWorking(); app.health.setStateNoInfo() }],
    ...ALL_STATES.map((state): [string, State, (app: FastifyInstance) => void] =>
      [`setState(${state})`, state, (app) => app.health.setState(state)])
  ]
  for (const [name, state, move] of cases) {
    await t.test(name, async (t) => {
      const app = newApp(t)
      await app.register(fastifyHealth, 'orders')
      move(app)
      t.equal(app.health.state, state, 'the state getter')

      const get = await app.inject({ method: 'GET', url: '/health' })
      assertAnswer(t, { statusCode: get.statusCode, body: get.json() }, state, { serviceId: 'orders' })
      t.equal(get.headers['content-type'], CONTENT_TYPE)
      t.equal(get.headers['cache-control'], 'max-age=5')
      t.equal(get.headers['content-length'], String(Buffer.byteLength(get.body)))

      const head = await app.inject({ method: 'HEAD', url: '/health' })
      t.equal(head.statusCode, get.statusCode, 'HEAD: same status code')
      t.equal(head.body, '', 'HEAD: no body')
      t.equal(head.headers['content-type'], CONTENT_TYPE, 'HEAD: same content type')
      t.equal(head.headers['cache-control'], 'max-age=5', 'HEAD: same cache control')
      t.equal(head.headers['content-length'], get.headers['content-length'], 'HEAD: the length of the GET body')

      const report = await app.health.report()
      t.strictSame(schemaErrors(report.body), [])
      t.strictSame(report, { statusCode: get.statusCode, body: get.json() }, 'report() is exactly what GET answers')
    })
  }
})

test('only GET and HEAD are served', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, 'orders')
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/health' })
    t.equal(res.statusCode, 404, method)
  }
})

test('initialState: the first answer, without any state change logged', async (t) => {
  for (const state of ALL_STATES) {
    await t.test(state, async (t) => {
      const { app, lines } = loggedApp(t)
      await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: state })
      t.equal(app.health.state, state)
      const res = await app.inject('/health')
      assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, state, { serviceId: 'orders' })
      t.strictSame(stateChanges(lines), [], 'starting in a state is not a change')
    })
  }
})

test('each state change is logged once, with from and to, through the instance logger', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, 'orders')
  for (let i = 0; i < 3; i++) await app.inject('/health')
  app.health.setStateWarmUp()
  app.health.setStateWarmUp()
  for (let i = 0; i < 3; i++) await app.inject('/health')
  app.health.setState(State.WORK)
  app.health.setStateWorking()
  for (let i = 0; i < 3; i++) await app.inject({ method: 'HEAD', url: '/health' })
  await app.health.report()
  t.strictSame(stateChanges(lines), [
    { from: State.NOINFO, to: State.WARMUP },
    { from: State.WARMUP, to: State.WORK }
  ], 'one line per change, none per request or per repeated state')
  await app.close()
  t.strictSame(stateChanges(lines), [
    { from: State.NOINFO, to: State.WARMUP },
    { from: State.WARMUP, to: State.WORK },
    { from: State.WORK, to: State.SHUTDOWN }
  ], 'closing is a change too')
})

test('setState() rejects anything that is not a State with FST_HEALTH_INVALID_STATE', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, 'orders')
  app.health.setStateWorking()
  const bad: unknown[] = [
    'bogus', 'working', 'WORK', 'pass', '', ' Working', undefined, null, 42, true, {}, [], [State.WORK],
    { state: State.WORK }, Symbol('Working'), () => State.WORK
  ]
  for (const value of bad) {
    const error = t.throws(() => app.health.setState(value as State), { code: 'FST_HEALTH_INVALID_STATE' },
      `rejects ${String(typeof value === 'symbol' ? value.description : value)}`) as Error
    t.ok(error instanceof TypeError, 'a TypeError')
    t.equal(app.health.state, State.WORK, 'the state is unchanged')
  }
  const error = t.throws(() => app.health.setState('bogus' as State)) as Error
  t.match(error.message, '"bogus"', 'the message shows the value')
  t.match(error.message, 'Working', 'the message lists the states')
  const res = await app.inject('/health')
  assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.WORK, { serviceId: 'orders' })
  t.equal(stateChanges(lines).length, 1, 'only the valid change was logged')
})

// Regression: lib/controller.ts builds the error message with JSON.stringify(state), which throws its own
// TypeError for a BigInt or a circular object, so the caller gets no FST_HEALTH_INVALID_STATE.

test('setState() rejects values that JSON.stringify cannot print with FST_HEALTH_INVALID_STATE', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, 'orders')
  const circular: Record<string, unknown> = {}
  circular.self = circular
  for (const [name, value] of [['a BigInt', 10n], ['a circular object', circular]] as const) {
    t.throws(() => app.health.setState(value as unknown as State), { code: 'FST_HEALTH_INVALID_STATE' },
      `rejects ${name}`)
  }
  t.equal(app.health.state, State.NOINFO, 'the state is unchanged')
})

test('state is a read-only getter', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, 'orders')
  t.throws(() => { (app.health as { state: State }).state = State.WORK }, TypeError)
  t.equal(app.health.state, State.NOINFO)
  const res = await app.inject('/health')
  t.equal(res.statusCode, 503)
})

test('the methods of fastify.health are bound, usable as callbacks', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, 'orders')
  const { setStateWarmUp, setStateWorking, setStateShutDown, setStateNoInfo, setState, report } = app.health
  setStateWarmUp()
  t.equal(app.health.state, State.WARMUP)
  setStateWorking()
  t.equal(app.health.state, State.WORK)
  setStateShutDown()
  t.equal(app.health.state, State.SHUTDOWN)
  setStateNoInfo()
  t.equal(app.health.state, State.NOINFO)
  setState(State.WORK)
  t.equal((await report()).statusCode, 200)
})

test('report() returns a copy: changing it changes no later answer', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', links: { about: 'https://example.com/about' } })
  app.health.setStateWorking()
  const pending = app.health.report()
  t.ok(pending instanceof Promise, 'report() returns a promise')
  const first = await pending
  first.body.notes?.push('tampered')
  first.body.status = 'fail'
  if (first.body.links !== undefined) first.body.links.about = 'https://example.com/tampered'
  first.statusCode = 500
  const second = await app.health.report()
  const res = await app.inject('/health')
  for (const answer of [second, { statusCode: res.statusCode, body: res.json() }]) {
    assertAnswer(t, answer, State.WORK, { serviceId: 'orders', links: { about: 'https://example.com/about' } })
  }
})

// Regression: lib/options.ts keeps the caller's links object by reference. report() clones it as it is
// now, GET serves the document serialized at the last state change, and a value changed after
// registration is never checked for being a URI.

test('report() stays exactly what GET answers when the links object given as option is changed later', async (t) => {
  const app = newApp(t)
  const links: Record<string, string> = { about: 'https://example.com/about' }
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', links })
  links.about = 'not a uri'
  const report = await app.health.report()
  const res = await app.inject('/health')
  t.strictSame(res.json().links, { about: 'https://example.com/about' }, 'GET: the links validated at registration')
  t.strictSame(report.body.links, { about: 'https://example.com/about' }, 'report(): the links validated at registration')
  t.strictSame(report, { statusCode: res.statusCode, body: res.json() }, 'report() is what GET answers')
})

test('app.close() moves the state to Shutting down before the server stops', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, 'orders')
  app.health.setStateWorking()
  let inPreClose: { state: State, report: unknown } | undefined
  let inOnClose: State | undefined
  // Added after the plugin: runs after the plugin's own preClose hook, before the server stops.
  app.addHook('preClose', async () => {
    inPreClose = { state: app.health.state, report: await app.health.report() }
  })
  app.addHook('onClose', async () => { inOnClose = app.health.state })
  await app.close()
  t.equal(inPreClose?.state, State.SHUTDOWN, 'already Shutting down during preClose')
  assertAnswer(t, inPreClose?.report as { statusCode: number, body: unknown }, State.SHUTDOWN, { serviceId: 'orders' })
  t.equal(inOnClose, State.SHUTDOWN)
  t.strictSame(stateChanges(lines).at(-1), { from: State.WORK, to: State.SHUTDOWN })
})

test('closing when already Shutting down logs no change', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.SHUTDOWN })
  await app.close()
  t.equal(app.health.state, State.SHUTDOWN)
  t.strictSame(stateChanges(lines), [])
})

test('prefix and path', async (t) => {
  const cases: Array<[string | undefined, string | undefined, string]> = [
    ['/api', undefined, '/api/health'],
    ['/api/', undefined, '/api/health'],
    ['/api//', undefined, '/api/health'],
    ['/', undefined, '/health'],
    ['', undefined, '/health'],
    [undefined, '/status', '/status'],
    [undefined, '/healthz/live', '/healthz/live'],
    ['/api', '/status', '/api/status'],
    ['/v1/api/', '/ready', '/v1/api/ready']
  ]
  for (const [prefix, path, url] of cases) {
    await t.test(`prefix ${String(prefix)}, path ${String(path)} -> ${url}`, async (t) => {
      const app = newApp(t)
      await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', prefix, path })
      app.health.setStateWarmUp()
      const res = await app.inject(url)
      assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.WARMUP, { serviceId: 'orders' })
      const head = await app.inject({ method: 'HEAD', url })
      t.equal(head.statusCode, 202, 'HEAD at the same URL')
      if (url !== '/health') t.equal((await app.inject('/health')).statusCode, 404, 'nothing at /health')
    })
  }
})

test('a path of "/" serves the root', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', path: '/' })
  const res = await app.inject('/')
  assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.NOINFO, { serviceId: 'orders' })
})

test('inside an encapsulated context: the context prefix and the plugin prefix add up', async (t) => {
  const app = newApp(t)
  let inner: FastifyInstance | undefined
  await app.register(async (instance) => {
    await instance.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', prefix: '/inner' })
    inner = instance
  }, { prefix: '/outer' })
  t.equal(app.hasDecorator('health'), false, 'not decorated outside the context')
  inner?.health.setStateWorking()
  const res = await app.inject('/outer/inner/health')
  assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.WORK, { serviceId: 'orders' })
})

test('a second registration fails with FST_HEALTH_ALREADY_REGISTERED', async (t) => {
  await t.test('on the same instance', async (t) => {
    const app = newApp(t)
    await app.register(fastifyHealth, 'orders')
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'billing', path: '/other' }) },
      { code: 'FST_HEALTH_ALREADY_REGISTERED' })
  })
  await t.test('in a child context of a registered instance', async (t) => {
    const app = newApp(t)
    await app.register(fastifyHealth, 'orders')
    await t.rejects(async () => {
      await app.register(async (child) => {
        await child.register(fastifyHealth, { exposeDetails: true, serviceName: 'billing', prefix: '/billing' })
      })
    }, { code: 'FST_HEALTH_ALREADY_REGISTERED', message: /already registered/ })
  })
  await t.test('sibling contexts each get their own controller', async (t) => {
    const app = newApp(t)
    for (const name of ['orders', 'billing']) {
      await app.register(async (child) => {
        await child.register(fastifyHealth, { exposeDetails: true, serviceName: name, prefix: `/${name}` })
        if (name === 'orders') child.health.setStateWorking()
      })
    }
    const orders = await app.inject('/orders/health')
    const billing = await app.inject('/billing/health')
    assertAnswer(t, { statusCode: orders.statusCode, body: orders.json() }, State.WORK, { serviceId: 'orders' })
    assertAnswer(t, { statusCode: billing.statusCode, body: billing.json() }, State.NOINFO, { serviceId: 'billing' })
  })
})

test('every option appears in every answer', async (t) => {
  const links = {
    about: 'https://example.com/orders',
    self: '/health',
    'https://example.com/rel/runbook': 'https://example.com/runbook',
    mail: 'mailto:ops@example.com',
    isbn: 'urn:isbn:0451450523'
  }
  const app = newApp(t)
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    version: '1',
    releaseId: '1.2.3-abc123',
    description: 'Order service',
    links,
    cacheControl: 'no-store'
  })
  for (const state of ALL_STATES) {
    app.health.setState(state)
    const res = await app.inject('/health')
    assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, state,
      { serviceId: 'orders', version: '1', releaseId: '1.2.3-abc123', description: 'Order service', links })
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(res.headers['content-type'], CONTENT_TYPE)
    t.equal((await app.inject({ method: 'HEAD', url: '/health' })).headers['cache-control'], 'no-store')
  }
})

test('cacheControl: false sends no Cache-Control header on any route, GET or HEAD', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', cacheControl: false })
  app.health.setStateWorking()
  for (const url of ['/health', '/health/live', '/health/ready', '/health/started']) {
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await app.inject({ method, url })
      t.equal(res.statusCode, 200, `${method} ${url}: status`)
      t.equal(res.headers['content-type'], CONTENT_TYPE, `${method} ${url}: content-type`)
      t.notOk('cache-control' in res.headers, `${method} ${url}: no cache-control`)
    }
  }
})

test('statusCodes: overrides of the 200/202/503 mapping', async (t) => {
  const cases: Array<[FastifyHealthOptions['statusCodes'], Record<State, number>]> = [
    [{}, { [State.WORK]: 200, [State.WARMUP]: 202, [State.SHUTDOWN]: 202, [State.NOINFO]: 503 }],
    [{ warn: 200 }, { [State.WORK]: 200, [State.WARMUP]: 200, [State.SHUTDOWN]: 200, [State.NOINFO]: 503 }],
    [{ pass: 203, warn: 299, fail: 500 }, { [State.WORK]: 203, [State.WARMUP]: 299, [State.SHUTDOWN]: 299, [State.NOINFO]: 500 }],
    [{ pass: 399, warn: 200, fail: 400 }, { [State.WORK]: 399, [State.WARMUP]: 200, [State.SHUTDOWN]: 200, [State.NOINFO]: 400 }],
    [{ pass: 200, warn: 399, fail: 599 }, { [State.WORK]: 200, [State.WARMUP]: 399, [State.SHUTDOWN]: 399, [State.NOINFO]: 599 }]
  ]
  for (const [statusCodes, codes] of cases) {
    await t.test(JSON.stringify(statusCodes), async (t) => {
      const app = newApp(t)
      await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', statusCodes })
      for (const state of ALL_STATES) {
        app.health.setState(state)
        const res = await app.inject('/health')
        assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, state,
          { serviceId: 'orders', statusCode: codes[state] })
        t.equal((await app.health.report()).statusCode, codes[state], 'report() agrees')
        t.equal((await app.inject({ method: 'HEAD', url: '/health' })).statusCode, codes[state], 'HEAD agrees')
      }
    })
  }
})

// Regression: lib/options.ts looks statuses up in a plain object (codeRanges[status]), so "toString" or
// "constructor" find an inherited function instead of undefined and pass unchecked.

// Regression: lib/options.ts looks rules up in a plain object (rules[key]): "toString" and "constructor"
// find inherited functions and give a wrong FST_HEALTH_INVALID_OPTION; "hasOwnProperty" and
// "valueOf" throw a bare TypeError with no FST_HEALTH_* code.

test('statuses are ordered pass < warn < fail (the internal worstStatus)', async (t) => {
  const order = [Status.PASS, Status.WARN, Status.FAIL]
  for (const [i, a] of order.entries()) {
    for (const [j, b] of order.entries()) {
      t.equal(worstStatus(a, b), order[Math.max(i, j)], `${a} vs ${b}`)
    }
  }
})

test('the answer sets its own code and type, whatever an app hook set before it', async (t) => {
  for (const state of ALL_STATES) {
    const app = newApp(t)
    app.addHook('onRequest', async (_request, reply) => {
      reply.code(418).header('content-type', 'text/plain')
    })
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: state })
    for (const url of ['/health', '/health/ready']) {
      const res = await app.inject(url)
      const expected = url === '/health' ? DEFAULT_STATUS_CODES[stateStatus[state]] : (state === State.WORK ? 200 : 503)
      t.equal(res.statusCode, expected, `${state}: ${url} answers ${expected}, not the hook's 418`)
      t.equal(res.headers['content-type'], CONTENT_TYPE, `${state}: ${url} content type`)
    }
  }
})
