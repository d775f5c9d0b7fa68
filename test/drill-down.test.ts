// The drill-down: GET (and HEAD) {path}/checks/:name, the document of one check; 404 in the
// draft's format for a name no check has, and for every name when the detail policy refuses.
import { test } from 'tap'
import { type ComponentDetail, State } from '../lib/index.js'
import { CONTENT_TYPE, expectServed, servedApp, transports } from './helpers.js'

type Reading = 'pass' | 'warn' | 'fail'

const GET_ONLY = { head: false }

/** The 404 document of a name no check has. */
const missing = (name: string, fields: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ status: 'fail', notes: ['No such check'], output: `No check is named "${name}"`, serviceId: 'orders', ...fields })

for (const transport of transports) {
  test(`one check's document: its status, its entries, its output (${transport})`, async (t) => {
    const readings: Record<string, Reading> = { 'db:responseTime': 'pass', 'cache:hitRatio': 'pass' }
    const check = (name: string) => (): ComponentDetail => readings[name] === 'pass'
      ? { componentType: 'datastore', observedValue: 3, observedUnit: 'ms', status: 'pass' }
      : { componentType: 'datastore', status: readings[name], output: `${name} is ${readings[name]}` }
    const { app, call } = await servedApp(t, transport, {
      initialState: State.NOINFO,
      version: '2',
      releaseId: '2.3.1',
      description: 'Orders',
      links: { about: 'https://example.com/orders' },
      checks: {
        'db:responseTime': { check: check('db:responseTime'), cacheFor: 0 },
        'cache:hitRatio': { check: check('cache:hitRatio'), cacheFor: 0, critical: false }
      }
    })
    const identity = { version: '2', releaseId: '2.3.1', description: 'Orders', links: { about: 'https://example.com/orders' }, serviceId: 'orders' }

    for (const url of ['/health/checks/db:responseTime', '/health/checks/db%3AresponseTime', '/health/checks/db%3aresponseTime']) {
      const body = await expectServed(t, call, url, 200)
      t.match(body, { status: 'pass', notes: ['The check passes'], ...identity }, `${url}: pass, whatever the state`)
      t.notOk('output' in body, `${url}: no output on pass`)
      t.same(Object.keys(body.checks ?? {}), ['db:responseTime'], `${url}: that check alone`)
      t.match(body.checks?.['db:responseTime'], [{ componentType: 'datastore', observedValue: 3, observedUnit: 'ms', status: 'pass' }])
    }

    readings['db:responseTime'] = 'warn'
    let body = await expectServed(t, call, '/health/checks/db:responseTime', 202, 'warn')
    t.match(body, { status: 'warn', notes: ['The check warns'], output: 'db:responseTime: warn (db:responseTime is warn)' })
    readings['db:responseTime'] = 'fail'
    body = await expectServed(t, call, '/health/checks/db:responseTime', 503, 'fail')
    t.match(body, { status: 'fail', notes: ['The check fails'], output: 'db:responseTime: fail (db:responseTime is fail)' })
    t.equal(body.checks?.['db:responseTime']?.[0]?.status, 'fail')

    // Counted as /health counts it: a failing non-critical check warns.
    readings['cache:hitRatio'] = 'fail'
    body = await expectServed(t, call, '/health/checks/cache:hitRatio', 202, 'non-critical')
    t.match(body, { status: 'warn', output: 'cache:hitRatio: fail (cache:hitRatio is fail)' })
    t.equal(body.checks?.['cache:hitRatio']?.[0]?.status, 'fail', 'the entry says what the reading said')

    // The state does not enter into it.
    app.health.setStateWorking()
    readings['db:responseTime'] = 'pass'
    t.equal((await expectServed(t, call, '/health/checks/db:responseTime', 200, 'Working')).status, 'pass')
    const res = await call('/health/checks/db:responseTime')
    t.equal(res.cacheControl, 'max-age=5', 'the cache header of every answer')
  })

  test(`a name no check has answers 404 in the draft's format (${transport})`, async (t) => {
    const { call } = await servedApp(t, transport, { version: '2', checks: { 'db:responseTime': () => undefined } })
    for (const [url, name] of [
      ['/health/checks/db:connections', 'db:connections'],
      ['/health/checks/db%3Aconnections', 'db:connections'],
      ['/health/checks/db', 'db'],
      ['/health/checks/', ''],
      ['/health/checks/%3Cscript%3E', '<script>']
    ]) {
      const body = await expectServed(t, call, url, 404, url)
      t.same(body, missing(name, { version: '2' }), `${url}: status fail, and an output saying no check has the name`)
      const res = await call(url)
      t.equal(res.contentType, CONTENT_TYPE)
      t.equal(res.cacheControl, 'max-age=5')
    }
  })

  test(`a refused detail policy answers exactly as for a missing check (${transport})`, async (t) => {
    let runs = 0
    const { call } = await servedApp(t, transport, {
      exposeDetails: (request) => request.headers['x-health-token'] === 'secret',
      checks: { 'db:responseTime': () => { runs++ } }
    })
    const known = await expectServed(t, call, '/health/checks/db:responseTime', 404, 'known, refused')
    const unknown = await expectServed(t, call, '/health/checks/db:nothing', 404, 'unknown, refused')
    t.same(known, missing('db:responseTime'), 'nothing tells that the check exists')
    t.same(unknown, missing('db:nothing'))
    t.equal(runs, 0, 'a refused request runs nothing')
  })
}

test('the detail policy per request, and a policy that throws', async (t) => {
  const { app, call } = await servedApp(t, 'inject', {
    exposeDetails: (request) => {
      if (request.headers['x-throw'] !== undefined) throw new Error('policy broke')
      return request.headers['x-health-token'] === 'secret'
    },
    checks: { 'db:responseTime': () => undefined }
  })
  const allowed = await app.inject({ url: '/health/checks/db:responseTime', headers: { 'x-health-token': 'secret' } })
  t.equal(allowed.statusCode, 200, 'with the token: the check')
  t.same(Object.keys(allowed.json().checks), ['db:responseTime'])
  const thrown = await app.inject({ url: '/health/checks/db:responseTime', headers: { 'x-health-token': 'secret', 'x-throw': '1' } })
  t.equal(thrown.statusCode, 404, 'a policy that throws refuses')
  t.same(thrown.json(), missing('db:responseTime'))
  t.equal((await call('/health/checks/db:responseTime')).statusCode, 404, 'without the token: 404')
})

test('exposeDetails: false hides every check', async (t) => {
  const { call } = await servedApp(t, 'inject', { exposeDetails: false, checks: { 'db:responseTime': () => undefined } })
  t.same(await expectServed(t, call, '/health/checks/db:responseTime', 404), missing('db:responseTime'))
})

test('a request runs a stale check, once for every concurrent request, and reuses a fresh reading', async (t) => {
  let runs = 0
  let release = (): void => {}
  const { call } = await servedApp(t, 'inject', {
    checks: {
      'db:responseTime': {
        check: async () => { runs++; await new Promise<void>((resolve) => { release = resolve }) },
        cacheFor: 60_000
      }
    }
  }, (app) => { app.health.addCheck('other', () => undefined) })
  const answers = Array.from({ length: 20 }, () => call('/health/checks/db:responseTime'))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(runs, 1, 'one run for 20 concurrent requests')
  release()
  const got = await Promise.all(answers)
  t.ok(got.every((answer) => answer.statusCode === 200), 'each waited for the first reading')
  await call('/health/checks/db:responseTime')
  await call('/health')
  t.equal(runs, 1, 'the reading is reused while fresh, by the drill-down and /health alike')
})

test('the drill-down follows the thresholds as /health does', async (t) => {
  let reading: Reading = 'fail'
  const { call } = await servedApp(t, 'inject', {
    checks: { 'db:responseTime': { check: () => ({ status: reading }), cacheFor: 0, failureThreshold: 2 } }
  })
  let body = await expectServed(t, call, '/health/checks/db:responseTime', 202, 'first failing reading', GET_ONLY)
  t.equal(body.output, 'db:responseTime: fail (1 of 2 failing readings before it counts)')
  body = await expectServed(t, call, '/health/checks/db:responseTime', 503, 'second failing reading', GET_ONLY)
  t.equal(body.output, 'db:responseTime: fail')
  reading = 'pass'
  await expectServed(t, call, '/health/checks/db:responseTime', 200, 'passing again', GET_ONLY)
})

test('checks come and go: a check added later is there, a removed one is not, even mid-run', async (t) => {
  let release = (): void => {}
  const { app, call } = await servedApp(t, 'inject', { checks: { 'db:responseTime': () => undefined } })
  app.health.addCheck('queue:depth', () => ({ status: 'warn', output: 'deep' }))
  t.equal((await expectServed(t, call, '/health/checks/queue:depth', 202)).status, 'warn', 'added after ready')
  t.ok(app.health.removeCheck('queue:depth'))
  t.same(await expectServed(t, call, '/health/checks/queue:depth', 404, 'removed'), missing('queue:depth'))

  app.health.addCheck('slow:check', async () => { await new Promise<void>((resolve) => { release = resolve }) })
  const waiting = call('/health/checks/slow:check')
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(app.health.removeCheck('slow:check'), 'removed while a request waits for its first reading')
  const got = await waiting
  t.equal(got.statusCode, 404, 'the request is answered at once, as for a check that is not there')
  t.same(got.body, missing('slow:check'))
  release()
})

test('a name with a slash is reached percent-encoded', async (t) => {
  const { call } = await servedApp(t, 'inject', { checks: { 'disk:/var/lib': () => ({ status: 'pass' }) } })
  t.same(Object.keys((await expectServed(t, call, '/health/checks/disk%3A%2Fvar%2Flib', 200)).checks ?? {}), ['disk:/var/lib'])
  t.equal((await call('/health/checks/disk:/var/lib')).statusCode, 404, 'the slashes as they are leave the route')
})

test('custom statusCodes, path and prefix; drillDown: false turns it off', async (t) => {
  const { call } = await servedApp(t, 'inject', {
    prefix: '/ops/',
    path: '/status/',
    statusCodes: { fail: 500 },
    checks: { 'db:responseTime': () => ({ status: 'fail', output: 'down' }) }
  })
  const body = await expectServed(t, call, '/ops/status/checks/db:responseTime', 500, 'the plugin\'s fail code')
  t.equal(body.output, 'db:responseTime: fail (down)')
  t.equal((await call('/health/checks/db:responseTime')).statusCode, 404)

  const { call: off } = await servedApp(t, 'inject', { drillDown: false, checks: { 'db:responseTime': () => undefined } })
  const res = await off('/health/checks/db:responseTime')
  t.equal(res.statusCode, 404, 'no route')
  t.not(res.contentType, CONTENT_TYPE, 'Fastify\'s own 404: there is no drill-down')
  t.equal((await off('/health')).statusCode, 200, 'the health document is still served')
})
