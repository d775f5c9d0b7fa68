// Health groups: the `groups` option's routes, which checks each counts, their detail policy and
// codes, the probes redefined as groups, and the mistakes that fail registration or ready().
import { EventEmitter } from 'node:events'
import { type Test, test } from 'tap'
import fastifyHealth, { type FastifyHealthOptions, State } from '../lib/index.js'
import { expectServed, loggedApp, newApp, servedApp, transports } from './helpers.js'

type Reading = 'pass' | 'warn' | 'fail'

/** Checks whose readings the test sets; cacheFor 0, so that every request reads the latest. */
function controlled (names: string[]) {
  const readings: Record<string, Reading> = Object.fromEntries(names.map((name) => [name, 'pass']))
  const runs: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]))
  const check = (name: string) => () => {
    runs[name]++
    const status = readings[name]
    return status === 'pass' ? { status } : { status, output: `${name} says ${status}` }
  }
  return { readings, runs, check }
}

const GET_ONLY = { head: false }

const keys = (body: { checks?: object }): string[] => Object.keys(body.checks ?? {})

for (const transport of transports) {
  test(`a group counts the checks it selects, with the state and notes of /health (${transport})`, async (t) => {
    const { readings, check } = controlled(['db:responseTime', 'db:connections', 'cache:hitRatio', 'queue:depth', 'db'])
    const { app, call } = await servedApp(t, transport, {
      initialState: State.NOINFO,
      checks: {
        'db:responseTime': { check: check('db:responseTime'), cacheFor: 0 },
        'db:connections': { check: check('db:connections'), cacheFor: 0 },
        'cache:hitRatio': { check: check('cache:hitRatio'), cacheFor: 0, critical: false, tags: ['cache'] },
        'queue:depth': { check: check('queue:depth'), cacheFor: 0, tags: ['async', 'cache'] },
        db: { check: check('db'), cacheFor: 0 }
      },
      groups: {
        db: { include: ['db:*'] },
        async: { include: ['tag:async'] },
        core: { exclude: ['cache:*', 'tag:async'] },
        one: { include: ['db:connections', 'queue:depth'], exclude: ['tag:async'] },
        everything: {}
      }
    })

    // The state decides the base status exactly as for /health.
    for (const [state, code, status, note] of [
      [State.NOINFO, 503, 'fail', 'No information about the service'],
      [State.WARMUP, 202, 'warn', 'Service is not healthy, it is warming up or shutting down'],
      [State.SHUTDOWN, 202, 'warn', 'Service is not healthy, it is warming up or shutting down'],
      [State.WORK, 200, 'pass', 'Service is running']
    ] as const) {
      app.health.setState(state)
      const body = await expectServed(t, call, '/health/db', code, `${state}`)
      t.equal(body.status, status, `${state}: status`)
      t.same(body.notes, [note], `${state}: the notes of /health`)
      if (status === 'pass') t.notOk('output' in body, `${state}: no output on pass`)
      else t.equal(body.output, `Service state: ${state}`, `${state}: output names the state`)
      t.same(keys(body), ['db:responseTime', 'db:connections', 'db'], `${state}: the checks of component db, db itself included`)
    }

    t.same(keys(await expectServed(t, call, '/health/async', 200)), ['queue:depth'], 'a tag selects')
    t.same(keys(await expectServed(t, call, '/health/core', 200)), ['db:responseTime', 'db:connections', 'db'],
      'every check but those excluded by component and by tag')
    t.same(keys(await expectServed(t, call, '/health/one', 200)), ['db:connections'], 'names select; exclude wins over include')
    t.same(keys(await expectServed(t, call, '/health/everything', 200)), keys(await expectServed(t, call, '/health', 200)),
      'no include: every check, in registration order')

    readings['db:connections'] = 'fail'
    let body = await expectServed(t, call, '/health/db', 503, 'db:connections fails')
    t.equal(body.status, 'fail')
    t.equal(body.output, 'db:connections: fail (db:connections says fail)', 'output says which check and why')
    t.equal(body.checks?.['db:connections']?.[0]?.status, 'fail')
    t.equal((await expectServed(t, call, '/health/async', 200, 'async, db failing')).status, 'pass', 'a group without it passes')

    readings['db:connections'] = 'pass'
    readings['queue:depth'] = 'warn'
    body = await expectServed(t, call, '/health/async', 202, 'queue warns')
    t.equal(body.status, 'warn')
    t.equal(body.output, 'queue:depth: warn (queue:depth says warn)')
    t.equal((await expectServed(t, call, '/health/db', 200, 'db, queue warning')).status, 'pass')

    // Critical or not, exactly as /health counts it.
    readings['queue:depth'] = 'pass'
    readings['cache:hitRatio'] = 'fail'
    body = await expectServed(t, call, '/health/everything', 202, 'a non-critical check fails')
    t.equal(body.status, 'warn', 'a failing non-critical check only warns')
    t.equal(body.output, 'cache:hitRatio: fail (cache:hitRatio says fail)')
  })

  test(`a group's path, detail policy and codes are its own (${transport})`, async (t) => {
    const { readings, check } = controlled(['db:responseTime', 'cache:hitRatio'])
    const { call } = await servedApp(t, transport, {
      prefix: '/ops',
      exposeDetails: false,
      statusCodes: { warn: 203 },
      checks: {
        'db:responseTime': { check: check('db:responseTime'), cacheFor: 0 },
        'cache:hitRatio': { check: check('cache:hitRatio'), cacheFor: 0 }
      },
      groups: {
        db: { include: ['db:*'], path: '/status/database', exposeDetails: true, statusCodes: { fail: 500 } },
        cache: { include: ['cache:*'] }
      }
    })
    let body = await expectServed(t, call, '/ops/status/database', 200)
    t.same(keys(body), ['db:responseTime'], 'details shown: its own exposeDetails')
    t.equal((await call('/ops/health/db')).statusCode, 404, 'not at the default path')
    body = await expectServed(t, call, '/ops/health/cache', 200)
    t.notOk('checks' in body, 'the plugin\'s exposeDetails by default: details hidden')

    readings['db:responseTime'] = 'fail'
    readings['cache:hitRatio'] = 'warn'
    body = await expectServed(t, call, '/ops/status/database', 500, 'its own fail code')
    t.equal(body.output, 'db:responseTime: fail (db:responseTime says fail)')
    body = await expectServed(t, call, '/ops/health/cache', 203, 'the plugin\'s warn code')
    t.same(body, { status: 'warn', notes: ['Service is running, but checks warn'], output: '1 check warning', serviceId: 'orders' },
      'hidden details: an output that names no check')
    t.equal((await call('/ops/health/cache')).cacheControl, 'max-age=5', 'the cache header of every answer')
  })

  test(`the probes can be redefined as groups (${transport})`, async (t) => {
    const { readings, check } = controlled(['db:responseTime', 'db:connections', 'cache:hitRatio', 'heart:beat'])
    const { app, call } = await servedApp(t, transport, {
      checks: {
        'db:responseTime': { check: check('db:responseTime'), cacheFor: 0 },
        // Marked for no probe: an include of its own picks it anyway.
        'db:connections': { check: check('db:connections'), cacheFor: 0, probes: [] },
        'cache:hitRatio': { check: check('cache:hitRatio'), cacheFor: 0 },
        'heart:beat': { check: check('heart:beat'), cacheFor: 0, tags: ['liveness'] }
      },
      groups: {
        ready: { include: ['db:*'], statusCodes: { warn: 202 } },
        live: { include: ['tag:liveness'], path: '/livez' },
        started: { exposeDetails: false }
      }
    })
    let body = await expectServed(t, call, '/health/ready', 200)
    t.same(keys(body), ['db:responseTime', 'db:connections'], 'ready: its include replaces the probes option\'s marks')
    t.same(body.notes, ['Service is ready'], 'the notes of the readiness probe')
    body = await expectServed(t, call, '/livez', 200)
    t.same(keys(body), ['heart:beat'], 'live: checks by tag')
    t.equal((await call('/health/live')).statusCode, 404, 'live moved by its group\'s path')
    t.notOk('checks' in await expectServed(t, call, '/health/started', 200), 'started: counts no check, as before')

    readings['cache:hitRatio'] = 'fail'
    t.equal((await expectServed(t, call, '/health/ready', 200, 'cache fails')).status, 'pass', 'a check ready no longer counts')
    readings['db:connections'] = 'warn'
    t.equal((await expectServed(t, call, '/health/ready', 202, 'its own warn code')).status, 'warn')
    readings['db:connections'] = 'fail'
    body = await expectServed(t, call, '/health/ready', 503, 'db fails')
    t.equal(body.output, 'db:connections: fail (db:connections says fail)')

    // The base status stays the probe's: not ready outside Working, whatever the checks say.
    readings['db:connections'] = 'pass'
    app.health.setStateWarmUp()
    body = await expectServed(t, call, '/health/ready', 503, 'Warming up')
    t.same(body.notes, ['Service is not ready'])
    t.equal(body.output, 'Service state: Warming up')
    t.equal((await expectServed(t, call, '/livez', 200, 'live, Warming up')).status, 'pass', 'live stays alive')
    t.equal((await expectServed(t, call, '/health/started', 200, 'started, Warming up')).status, 'pass', 'started stays started')
  })
}

test('an exclude alone keeps the checks the probes option marks for the probe, and takes some out', async (t) => {
  const { readings, check } = controlled(['db:responseTime', 'cache:hitRatio', 'heart:beat'])
  const { call } = await servedApp(t, 'inject', {
    checks: {
      'db:responseTime': { check: check('db:responseTime'), cacheFor: 0 },
      'cache:hitRatio': { check: check('cache:hitRatio'), cacheFor: 0 },
      'heart:beat': { check: check('heart:beat'), cacheFor: 0, probes: ['live'] }
    },
    groups: { ready: { exclude: ['cache:*'] } }
  })
  t.same(keys(await expectServed(t, call, '/health/ready', 200)), ['db:responseTime'], 'marked for ready (by default), less cache')
  readings['cache:hitRatio'] = 'fail'
  t.equal((await expectServed(t, call, '/health/ready', 200)).status, 'pass')
  t.same(keys(await expectServed(t, call, '/health/live', 200)), ['heart:beat'], 'live unchanged')
})

test('a group follows the thresholds exactly as /health does', async (t) => {
  const { readings, check } = controlled(['db:responseTime'])
  const { call } = await servedApp(t, 'inject', {
    checks: { 'db:responseTime': { check: check('db:responseTime'), cacheFor: 0, failureThreshold: 2, successThreshold: 2 } },
    groups: { db: { include: ['db:*'] } }
  })
  t.equal((await expectServed(t, call, '/health/db', 200, 'first reading', GET_ONLY)).status, 'pass')
  readings['db:responseTime'] = 'fail'
  let body = await expectServed(t, call, '/health/db', 202, 'first failing reading', GET_ONLY)
  t.equal(body.output, 'db:responseTime: fail (db:responseTime says fail, 1 of 2 failing readings before it counts)')
  t.equal(body.checks?.['db:responseTime']?.[0]?.status, 'fail', 'the entry says what the reading said')
  body = await expectServed(t, call, '/health/db', 503, 'second failing reading', GET_ONLY)
  t.equal(body.status, 'fail')
  readings['db:responseTime'] = 'pass'
  body = await expectServed(t, call, '/health/db', 503, 'first passing reading', GET_ONLY)
  t.equal(body.output, 'db:responseTime: pass (1 of 2 passing readings before it counts again)')
  t.equal((await expectServed(t, call, '/health/db', 200, 'second passing reading', GET_ONLY)).status, 'pass')
})

test('a group costs what a probe costs: one run per cacheFor, shared with every view', async (t) => {
  const { runs, check } = controlled(['db:responseTime', 'cache:hitRatio'])
  const { call } = await servedApp(t, 'inject', {
    checks: {
      'db:responseTime': { check: check('db:responseTime'), cacheFor: 60_000 },
      'cache:hitRatio': { check: async () => { runs['cache:hitRatio']++; await new Promise((resolve) => setTimeout(resolve, 20)) }, cacheFor: 60_000 }
    },
    groups: { db: { include: ['db:*'] }, cache: { include: ['cache:*'] } }
  })
  const urls = ['/health', '/health/db', '/health/cache', '/health/ready', '/health/live']
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => call(urls[i % urls.length] as string)))
  t.ok(answers.every((answer) => answer.statusCode === 200), 'every answer passes')
  t.same(runs, { 'db:responseTime': 1, 'cache:hitRatio': 1 }, 'each check ran once for 50 concurrent requests on five views')
  for (const url of urls) await call(url)
  t.same(runs, { 'db:responseTime': 1, 'cache:hitRatio': 1 }, 'and not again while fresh')
})

test('checks added or removed at run time join and leave the groups that select them', async (t) => {
  const { call, app } = await servedApp(t, 'inject', {
    checks: { 'db:responseTime': () => undefined },
    groups: { tagged: { include: ['tag:late'] }, db: { include: ['db:*'] } }
  }, (app) => { app.health.addCheck('first:late', () => undefined, { tags: ['late'] }) })
  t.same(keys(await expectServed(t, call, '/health/tagged', 200)), ['first:late'])
  app.health.addCheck('second:late', () => ({ status: 'warn', output: 'late' }), { tags: ['late', 'other'] })
  app.health.addCheck('db:connections', () => undefined)
  let body = await expectServed(t, call, '/health/tagged', 202, 'a check added after ready')
  t.same(keys(body), ['first:late', 'second:late'])
  t.same(keys(await expectServed(t, call, '/health/db', 200)), ['db:responseTime', 'db:connections'])
  t.ok(app.health.removeCheck('second:late'))
  t.same(keys(await expectServed(t, call, '/health/tagged', 200, 'after removal')), ['first:late'])
  t.ok(app.health.removeCheck('first:late'))
  body = await expectServed(t, call, '/health/tagged', 200, 'every check removed')
  t.same(body, { status: 'pass', notes: ['Service is running'], serviceId: 'orders' }, 'a group emptied at run time answers the state alone')
})

/** The error `ready()` (or registration, when it fails first) fails with. */
async function readyError (t: Test, options: Partial<FastifyHealthOptions>, before?: (app: ReturnType<typeof newApp>) => void): Promise<Error & { code?: string }> {
  const app = newApp(t)
  before?.(app)
  try {
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', ...options })
    await app.ready()
  } catch (error) {
    return error as Error & { code?: string }
  }
  t.fail('should have failed')
  return new Error('did not fail')
}

test('a group path that another route takes fails registration with FST_HEALTH_ROUTE_TAKEN', async (t) => {
  const cases: Array<[string, Partial<FastifyHealthOptions>, ((app: ReturnType<typeof newApp>) => void) | undefined, string]> = [
    ['a probe\'s path', { groups: { db: { path: '/health/ready' } } }, undefined,
      'fastify-health: group "db" cannot be served at GET /health/ready: the ready probe is there already'],
    ['the health document\'s path', { groups: { db: { path: '/health' } } }, undefined,
      'fastify-health: group "db" cannot be served at GET /health: the health document is there already'],
    ['another group\'s path', { groups: { a: { path: '/groups/x' }, b: { path: '/groups/x' } } }, undefined,
      'fastify-health: group "b" cannot be served at GET /groups/x: group "a" is there already'],
    ['a probe moved to the group\'s default path', { probes: { live: '/health/db' }, groups: { db: {} } }, undefined,
      'fastify-health: group "db" cannot be served at GET /health/db: the live probe is there already'],
    ['one check of the drill-down', { groups: { db: { path: '/health/checks/db' } } }, undefined,
      'fastify-health: group "db" cannot be served at GET /health/checks/db: the check drill-down is there already'],
    ['a route of the application', { groups: { db: {} } }, (app) => { app.get('/health/db', async () => 'mine') },
      'fastify-health: group "db" cannot be served at GET /health/db: a route of the application is there already'],
    ['a route of the application, under the prefix', { prefix: '/api', groups: { db: { path: '/db' } } },
      (app) => { app.get('/api/db', async () => 'mine') },
      'fastify-health: group "db" cannot be served at GET /api/db: a route of the application is there already'],
    ['the health document on a route of the application', {}, (app) => { app.get('/health', async () => 'mine') },
      'fastify-health: the health document cannot be served at GET /health: a route of the application is there already']
  ]
  for (const [label, options, before, message] of cases) {
    const error = await readyError(t, options, before)
    t.equal(error.code, 'FST_HEALTH_ROUTE_TAKEN', `${label}: code`)
    t.equal(error.message, message, `${label}: message`)
  }
})

test('paths near the drill-down that do not shadow a check are fine', async (t) => {
  const { call } = await servedApp(t, 'inject', {
    checks: { 'db:responseTime': () => undefined },
    groups: { checks: {}, deep: { path: '/health/checks/a/b' }, db: { path: '/health/checks/db', include: ['db:*'] } },
    drillDown: false
  })
  t.same(keys(await expectServed(t, call, '/health/checks', 200)), ['db:responseTime'], 'a group named checks')
  await expectServed(t, call, '/health/checks/a/b', 200)
  await expectServed(t, call, '/health/checks/db', 200, 'with drillDown: false, nothing is shadowed')
  const { call: withDrillDown } = await servedApp(t, 'inject', { checks: { 'db:responseTime': () => undefined }, groups: { checks: {} } })
  await expectServed(t, withDrillDown, '/health/checks', 200, 'a group named checks beside the drill-down')
  await expectServed(t, withDrillDown, '/health/checks/db:responseTime', 200, 'and the drill-down beside it')
})

test('a group that selects no check fails ready() and listen() with FST_HEALTH_EMPTY_GROUP', async (t) => {
  const cases: Array<[string, Partial<FastifyHealthOptions>]> = [
    ['no check at all', { groups: { db: { include: ['db:*'] } } }],
    ['no check of the component', { checks: { 'cache:hitRatio': () => undefined }, groups: { db: { include: ['db:*'] } } }],
    ['an empty include', { checks: { 'cache:hitRatio': () => undefined }, groups: { none: { include: [] } } }],
    ['everything excluded', { checks: { 'cache:hitRatio': () => undefined }, groups: { none: { exclude: ['cache:hitRatio'] } } }],
    ['a tag no check has', { checks: { 'cache:hitRatio': { check: () => undefined, tags: ['cache'] } }, groups: { none: { include: ['tag:db'] } } }]
  ]
  for (const [label, options] of cases) {
    const error = await readyError(t, options)
    t.equal(error.code, 'FST_HEALTH_EMPTY_GROUP', `${label}: code`)
    const name = Object.keys(options.groups ?? {})[0] as string
    t.equal(error.message, `fastify-health: group "${name}" selects no check (its include and exclude leave none of the checks registered when the instance became ready)`,
      `${label}: the message names the group`)
  }
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', groups: { db: { include: ['db:*'] } } })
  await t.rejects(app.listen({ host: '127.0.0.1', port: 0 }), { code: 'FST_HEALTH_EMPTY_GROUP' }, 'listen() fails too')
})

test('checks added after registration, by addCheck or autoChecks, count for the empty rule', async (t) => {
  const { call } = await servedApp(t, 'inject', { groups: { db: { include: ['db:*'] } } },
    (app) => { app.health.addCheck('db:responseTime', () => undefined) })
  t.same(keys(await expectServed(t, call, '/health/db', 200)), ['db:responseTime'], 'addCheck before ready')

  // A stand-in for @fastify/postgres: what autoChecks recognises, answering SELECT 1.
  const client = Object.assign(new EventEmitter(), { query: async () => ({ rows: [{ '?column?': 1 }] }), release: () => {} })
  const pool = Object.assign(new EventEmitter(), {
    connect: async () => client, options: { host: 'db.internal', port: 5432, database: 'orders' }, totalCount: 0, idleCount: 0
  })
  const options = {
    autoChecks: { timeout: 1000, tags: ['datastore'] },
    groups: { postgres: { include: ['postgres:*'] }, datastores: { include: ['tag:datastore'] } }
  }
  const { call: auto } = await servedApp(t, 'inject', options,
    (app) => { app.decorate('pg', { pool, query: async () => ({ rows: [] }), connect: async () => client } as never) })
  const body = await expectServed(t, auto, '/health/postgres', 200)
  t.same(keys(body), ['postgres:responseTime'], 'a check of autoChecks, registered once every plugin loaded')
  t.same(keys(await expectServed(t, auto, '/health/datastores', 200)), ['postgres:responseTime'], 'with the tags autoChecks gave it')
})

test('the probes are exempt from the empty rule', async (t) => {
  const { call } = await servedApp(t, 'inject', { groups: { live: { include: ['nothing:*'] }, ready: { include: [] } } })
  t.equal((await expectServed(t, call, '/health/live', 200)).status, 'pass', 'live with no check')
  t.equal((await expectServed(t, call, '/health/ready', 200)).status, 'pass', 'ready with no check')
})

test('a selector that selects no check is logged as a warning when the instance is ready', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    checks: { 'db:responseTime': () => undefined },
    groups: { db: { include: ['db:*', 'db:responseTim'], exclude: ['tag:slow'] }, ready: { exclude: ['cache:*'] } }
  })
  await app.ready()
  const warnings = lines.filter((line) => line.group !== undefined).map(({ group, selector, msg }) => ({ group, selector, msg }))
  t.same(warnings, [
    { group: 'ready', selector: 'cache:*', msg: 'fastify-health: the ready probe: "cache:*" selects no check' },
    { group: 'db', selector: 'db:responseTim', msg: 'fastify-health: group "db": "db:responseTim" selects no check' },
    { group: 'db', selector: 'tag:slow', msg: 'fastify-health: group "db": "tag:slow" selects no check' }
  ])
})

test('tags must be an array of non-empty strings', async (t) => {
  const app = newApp(t)
  await app.register(fastifyHealth, 'orders')
  for (const tags of ['db', [''], ['  '], [1], [null], {}]) {
    t.throws(() => app.health.addCheck('db:responseTime', () => undefined, { tags: tags as string[] }),
      { code: 'FST_HEALTH_INVALID_CHECK', message: 'fastify-health: check "db:responseTime" option "tags" must be an array of non-empty strings' },
      JSON.stringify(tags))
  }
  t.doesNotThrow(() => app.health.addCheck('db:responseTime', () => undefined, { tags: [] }), 'an empty array is fine')
  t.equal(app.health.removeCheck('db:responseTime'), true, 'and the check is registered')
  await t.rejects(async () => { await newApp(t).register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', autoChecks: { tags: [1] as never } }) },
    { code: 'FST_HEALTH_INVALID_OPTION', message: /"autoChecks" sets tags: it must be an array of non-empty strings/ }, 'autoChecks checks them too')
})
