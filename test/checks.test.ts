import { setTimeout as sleep } from 'node:timers/promises'
import vm from 'node:vm'
import { test, type Test } from 'tap'
import Fastify from 'fastify'
import fastifyHealth, {
  CHECK_DEFAULTS, type CheckFunction, type FastifyHealthOptions, type HealthCheckEntry, type HealthResponse, State
} from '../lib/index.js'
import { getAnswer, type Got, healthCodes, schemaErrors, workingApp } from './helpers.js'

/** The entries of one check in an answer; fails the test when the check is missing. */
function entriesOf (t: Test, got: Got, name: string): HealthCheckEntry[] {
  const entries = got.body.checks?.[name]
  t.ok(Array.isArray(entries), `checks["${name}"] is an array`)
  return entries ?? []
}

/** The single entry a check produced. */
function onlyEntry (t: Test, got: Got, name: string): HealthCheckEntry {
  const entries = entriesOf(t, got, name)
  t.equal(entries.length, 1, `checks["${name}"] has one entry`)
  return entries[0] ?? {}
}

/** Answers /health for a single check named `c` that does `check`. */
async function answerOf (t: Test, check: (signal: AbortSignal) => unknown, options: Record<string, unknown> = {}): Promise<Got> {
  const app = await workingApp(t, { checks: { c: { check: check as CheckFunction, ...options } } })
  return getAnswer(t, app)
}

const isIsoNow = (time: unknown, before: number, after: number): boolean =>
  typeof time === 'string' && new Date(time).toISOString() === time &&
  Date.parse(time) >= before && Date.parse(time) <= after

test('defaults of every check', async (t) => {
  t.same(CHECK_DEFAULTS, { timeout: 2000, critical: true, cacheFor: 1000, failureThreshold: 1, successThreshold: 1 })
})

test('registration', async (t) => {
  t.test('addCheck adds a check under its name; /health shows it as an array', async (t) => {
    const app = await workingApp(t)
    app.health.addCheck('postgres:responseTime', () => ({ componentType: 'datastore', observedValue: 3, observedUnit: 'ms' }))
    const got = await getAnswer(t, app)
    t.equal(got.statusCode, 200)
    t.match(onlyEntry(t, got, 'postgres:responseTime'), {
      status: 'pass', componentType: 'datastore', observedValue: 3, observedUnit: 'ms', time: String
    })
  })

  t.test('the checks option takes a function or { check, ...options }', async (t) => {
    const app = await workingApp(t, {
      checks: {
        'redis:ping': () => undefined,
        'mail:connections': { check: () => ({ status: 'fail', output: 'SMTP refused' }), critical: false, timeout: 500, cacheFor: 0 }
      }
    })
    const got = await getAnswer(t, app)
    t.same(Object.keys(got.body.checks ?? {}), ['redis:ping', 'mail:connections'])
    t.equal(onlyEntry(t, got, 'redis:ping').status, 'pass')
    t.equal(onlyEntry(t, got, 'mail:connections').status, 'fail')
    // critical: false was honoured: a failing non-critical check makes the answer warn.
    t.equal(got.statusCode, 202)
    t.equal(got.body.status, 'warn')
  })

  t.test('checks keep registration order: the option first, then addCheck', async (t) => {
    const app = await workingApp(t, { checks: { b: () => undefined, a: () => undefined } })
    app.health.addCheck('d', () => undefined)
    app.health.addCheck('c', () => undefined)
    const got = await getAnswer(t, app)
    t.same(Object.keys(got.body.checks ?? {}), ['b', 'a', 'd', 'c'])
  })

  t.test('names: componentName:measurementName, either part optional', async (t) => {
    const app = await workingApp(t)
    for (const name of ['db', 'db:', ':uptime', 'db:responseTime', 'a b:c d', 'ümlaut:ß']) {
      t.doesNotThrow(() => app.health.addCheck(name, () => undefined), `"${name}" is accepted`)
    }
    const got = await getAnswer(t, app)
    t.same(Object.keys(got.body.checks ?? {}), ['db', 'db:', ':uptime', 'db:responseTime', 'a b:c d', 'ümlaut:ß'])
  })

  t.test('bad names throw FST_HEALTH_INVALID_CHECK (a TypeError) and register nothing', async (t) => {
    const app = await workingApp(t)
    const bad: unknown[] = ['', ':', '::', 'a:b:c', 'a::b', ':a:', 42, undefined, null, {}, ['a']]
    for (const name of bad) {
      const label = typeof name === 'string' ? JSON.stringify(name) : String(name)
      t.throws(() => app.health.addCheck(name as string, () => undefined),
        { code: 'FST_HEALTH_INVALID_CHECK', message: /bad name/ }, `${label} is refused`)
    }
    const err = t.throws(() => app.health.addCheck('a:b:c', () => undefined)) as Error
    t.type(err, TypeError)
    t.match(err.message, 'check "a:b:c"', 'the message names the check')
    const got = await getAnswer(t, app)
    t.notOk(got.body.checks, 'no check was registered')
    t.equal(got.statusCode, 200)
  })

  t.test('bad names in the checks option fail the registration', async (t) => {
    for (const name of ['', ':', 'a:b:c']) {
      const app = Fastify()
      t.teardown(() => app.close())
      await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { [name]: () => undefined } }) },
        { code: 'FST_HEALTH_INVALID_CHECK' }, `"${name}" is refused`)
    }
  })

  t.test('duplicate names throw FST_HEALTH_DUPLICATE_CHECK and keep the first check', async (t) => {
    const app = await workingApp(t, { checks: { db: () => ({ observedValue: 'first' }) } })
    t.throws(() => app.health.addCheck('db', () => ({ observedValue: 'second' })), { code: 'FST_HEALTH_DUPLICATE_CHECK', message: /"db"/ })
    app.health.addCheck('cache', () => undefined)
    t.throws(() => app.health.addCheck('cache', () => undefined), { code: 'FST_HEALTH_DUPLICATE_CHECK' })
    const got = await getAnswer(t, app)
    t.equal(onlyEntry(t, got, 'db').observedValue, 'first')
    t.same(Object.keys(got.body.checks ?? {}), ['db', 'cache'])
  })

  t.test('a user check named like a process check collides at registration', async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { uptime: () => undefined }, process: true }) },
      { code: 'FST_HEALTH_DUPLICATE_CHECK', message: /"uptime"/ })
  })

  t.test('bad checks and options throw FST_HEALTH_INVALID_CHECK and register nothing', async (t) => {
    const app = await workingApp(t)
    const fn = (): undefined => undefined
    const cases: Array<[string, unknown, unknown, RegExp]> = [
      ['not a function', 5, undefined, /must be a function or \{ check: function/],
      ['a string for a function', 'fn', undefined, /must be a function or \{ check: function/],
      ['null options', fn, null, /options that are not an object/],
      ['array options', fn, [], /options that are not an object/],
      ['number options', fn, 5, /options that are not an object/],
      ['unknown option', fn, { retries: 3 }, /unknown option "retries"/],
      ['critical not boolean', fn, { critical: 'yes' }, /"critical" must be a boolean/],
      ['critical a number', fn, { critical: 0 }, /"critical" must be a boolean/],
      ['probes not an array', fn, { probes: 'ready' }, /"probes" must be an array/],
      ['probes unknown', fn, { probes: ['ready', 'started'] }, /"probes" must be an array/],
      ['timeout 0', fn, { timeout: 0 }, /"timeout" must be an integer number of milliseconds from 1/],
      ['timeout negative', fn, { timeout: -5 }, /"timeout"/],
      ['timeout fraction', fn, { timeout: 1.5 }, /"timeout"/],
      ['timeout string', fn, { timeout: '100' }, /"timeout"/],
      ['timeout NaN', fn, { timeout: Number.NaN }, /"timeout"/],
      ['timeout Infinity', fn, { timeout: Infinity }, /"timeout"/],
      ['timeout past the timer limit', fn, { timeout: 2 ** 31 }, /"timeout"/],
      ['cacheFor negative', fn, { cacheFor: -1 }, /"cacheFor" must be an integer number of milliseconds from 0/],
      ['cacheFor fraction', fn, { cacheFor: 0.5 }, /"cacheFor"/],
      ['interval 0', fn, { interval: 0 }, /"interval" must be an integer number of milliseconds from 1/],
      ['interval string', fn, { interval: '1s' }, /"interval"/]
    ]
    for (const [label, check, options, message] of cases) {
      t.throws(() => app.health.addCheck('c', check as CheckFunction, options as never),
        { code: 'FST_HEALTH_INVALID_CHECK', message }, label)
    }
    // Limits that are fine.
    t.equal((await app.health.report()).body.checks, undefined, 'no check was registered')
    app.health.addCheck('edges', fn, { timeout: 2 ** 31 - 1, cacheFor: 0, interval: 2 ** 31 - 1, critical: false, probes: [] })
    app.health.addCheck('c', fn)
    const got = await getAnswer(t, app)
    t.same(Object.keys(got.body.checks ?? {}), ['edges', 'c'], 'only the valid checks were registered')
  })

  t.test('bad definitions in the checks option fail the registration', async (t) => {
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['a number', 5, 'FST_HEALTH_INVALID_CHECK', /must be a function or \{ check: function/],
      ['null', null, 'FST_HEALTH_INVALID_CHECK', /must be a function or/],
      ['a string', 'SELECT 1', 'FST_HEALTH_INVALID_CHECK', /must be a function or/],
      ['no check', { timeout: 10 }, 'FST_HEALTH_INVALID_CHECK', /must be a function or \{ check: function/],
      ['an unknown option', { check: () => undefined, retries: 1 }, 'FST_HEALTH_INVALID_CHECK', /unknown option "retries"/],
      ['a bad timeout', { check: () => undefined, timeout: 0 }, 'FST_HEALTH_INVALID_CHECK', /"timeout"/]
    ]
    for (const [label, definition, code, message] of cases) {
      const app = Fastify()
      t.teardown(() => app.close())
      await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { db: definition as CheckFunction } }) },
        { code, message }, label)
    }
    for (const checks of [[], 'db', 5]) {
      const app = Fastify()
      t.teardown(() => app.close())
      await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: checks as never }) },
        { code: 'FST_HEALTH_INVALID_OPTION', message: /"checks"/ }, `checks: ${JSON.stringify(checks)}`)
    }
  })
})

test('what a check returns', async (t) => {
  t.test('sync and async checks', async (t) => {
    const app = await workingApp(t, {
      checks: {
        sync: () => ({ observedValue: 'sync' }),
        async: async () => { await sleep(5); return { observedValue: 'async' } },
        thenable: () => Promise.resolve({ status: 'warn', output: 'slow' })
      }
    })
    const got = await getAnswer(t, app)
    t.equal(onlyEntry(t, got, 'sync').observedValue, 'sync')
    t.equal(onlyEntry(t, got, 'async').observedValue, 'async')
    t.match(onlyEntry(t, got, 'thenable'), { status: 'warn', output: 'slow' })
    t.equal(got.body.status, 'warn')
    t.equal(got.statusCode, 202)
  })

  t.test('nothing returned means pass', async (t) => {
    const before = Date.now()
    const app = await workingApp(t, {
      checks: {
        undefined: () => undefined,
        null: () => null,
        void: () => {},
        asyncVoid: async () => {}
      }
    })
    const got = await getAnswer(t, app)
    const after = Date.now()
    for (const name of ['undefined', 'null', 'void', 'asyncVoid']) {
      const entry = onlyEntry(t, got, name)
      t.same(Object.keys(entry).sort(), ['status', 'time'], `${name}: only status and time`)
      t.equal(entry.status, 'pass')
      t.ok(isIsoNow(entry.time, before, after), `${name}: time is the reading's ISO time`)
    }
    t.equal(got.statusCode, 200)
    t.equal(got.body.status, 'pass')
    t.notOk('output' in got.body, 'no output when everything passes')
  })

  t.test('one object is one node, every field of the draft kept, extra keys too', async (t) => {
    const detail = {
      componentId: 'primary',
      componentType: 'datastore',
      observedValue: { p50: 1, p99: 12 },
      observedUnit: 'ms',
      status: 'warn',
      affectedEndpoints: ['/orders/{id}'],
      time: '2020-01-02T03:04:05.678Z',
      output: 'p99 is high',
      links: { self: 'https://db.example/status' },
      region: 'eu-west-1'
    }
    const got = await answerOf(t, () => detail)
    t.same(onlyEntry(t, got, 'c'), detail)
  })

  t.test('an array is one entry per node; the worst node decides', async (t) => {
    const nodes = [
      { componentId: 'n1', status: 'pass' },
      { componentId: 'n2', status: 'warn', output: 'lagging' },
      { componentId: 'n3' }
    ]
    const got = await answerOf(t, () => nodes)
    const entries = entriesOf(t, got, 'c')
    t.same(entries.map((e) => [e.componentId, e.status]), [['n1', 'pass'], ['n2', 'warn'], ['n3', 'pass']])
    t.equal(got.body.status, 'warn')
    t.equal(got.body.output, 'c: warn (lagging)', 'the first output of the check is summarised')

    const failing = await answerOf(t, () => [{ status: 'pass' }, { status: 'fail' }, { status: 'warn', output: 'w' }])
    t.equal(failing.body.status, 'fail')
    t.equal(failing.statusCode, 503)
    t.equal(failing.body.output, 'c: fail (w)')
  })

  t.test('exactly 64 nodes are fine', async (t) => {
    const got = await answerOf(t, () => Array.from({ length: 64 }, (_, i) => ({ componentId: `n${i}` })))
    t.equal(entriesOf(t, got, 'c').length, 64)
    t.equal(got.body.status, 'pass')
  })

  t.test('time: filled in when left out; a Date or an ISO 8601 string becomes RFC 3339 in UTC', async (t) => {
    const before = Date.now()
    const date = new Date('2024-02-29T12:00:00.000Z')
    const app = await workingApp(t, {
      checks: {
        left: () => [{ componentId: 'a' }, { componentId: 'b' }],
        string: () => ({ time: '2023-05-06T07:08:09.010Z' }),
        offset: () => ({ time: '2023-05-06T09:08:09+02:00' }),
        spaced: () => ({ time: '2023-05-06 07:08Z' }),
        date: () => ({ time: date })
      }
    })
    const got = await getAnswer(t, app)
    const after = Date.now()
    const left = entriesOf(t, got, 'left')
    t.ok(left.every((e) => isIsoNow(e.time, before, after)), 'every node gets the reading time')
    t.equal(left[0]?.time, left[1]?.time, 'the nodes of one reading share its time')
    t.equal(onlyEntry(t, got, 'string').time, '2023-05-06T07:08:09.010Z')
    t.equal(onlyEntry(t, got, 'offset').time, '2023-05-06T07:08:09.000Z', 'an offset is carried into UTC')
    t.equal(onlyEntry(t, got, 'spaced').time, '2023-05-06T07:08:00.000Z', 'a space for the T, no seconds')
    t.equal(onlyEntry(t, got, 'date').time, date.toISOString(), 'a Date becomes its ISO string')
  })

  t.test('status aliases are accepted and written as the canonical words', async (t) => {
    const words: Array<[string, string]> = [
      ['pass', 'pass'], ['ok', 'pass'], ['up', 'pass'], ['OK', 'pass'], [' Up ', 'pass'],
      ['warn', 'warn'], ['WARN', 'warn'],
      ['fail', 'fail'], ['error', 'fail'], ['down', 'fail'], ['DOWN', 'fail'], ['Error', 'fail']
    ]
    const checks: Record<string, CheckFunction> = {}
    words.forEach(([word], i) => { checks[`w${i}`] = () => ({ status: word as never }) })
    const app = await workingApp(t, { checks })
    const got = await getAnswer(t, app)
    words.forEach(([word, canonical], i) => {
      t.equal(onlyEntry(t, got, `w${i}`).status, canonical, `"${word}" is written as ${canonical}`)
    })
    t.equal(got.body.status, 'fail')
  })

  t.test('wrong types: numbers and booleans in text fields become strings', async (t) => {
    const got = await answerOf(t, () => ({ componentId: 7, componentType: true, observedUnit: 0, output: false, status: 'warn' }))
    const { time, ...rest } = onlyEntry(t, got, 'c')
    t.same(rest, { componentId: '7', componentType: 'true', observedUnit: '0', output: 'false', status: 'warn' })
    t.type(time, 'string')
  })

  t.test('an output longer than 512 characters is cut', async (t) => {
    const got = await answerOf(t, () => ({ status: 'warn', output: 'x'.repeat(2000) }))
    const output = onlyEntry(t, got, 'c').output ?? ''
    t.equal(output.length, 512)
    t.ok(output.endsWith('…'))
  })
})

test('garbage results become one fail entry saying what was wrong', async (t) => {
  const circular: Record<string, unknown> = { status: 'pass' }
  circular.self = circular
  const throwingGetter = { status: 'pass', get observedValue (): never { throw new Error('getter broke') } }
  const { proxy: revoked, revoke } = Proxy.revocable({}, {})
  revoke()
  const brokenArray = new Proxy([{ status: 'pass' }], {
    get: (target, key) => { if (key === 'length') throw new Error('length broke'); return Reflect.get(target, key) }
  })
  const noPrototype = new Proxy({ status: 'pass' }, {
    getPrototypeOf: () => { throw new Error('no prototype') },
    get: (target, key) => { if (key === 'toJSON') throw new Error('no prototype'); return Reflect.get(target, key) }
  })
  const cases: Array<[string, unknown, RegExp]> = [
    ['a number', 42, /^Invalid check result: got number, expected a component detail object$/],
    ['a string', 'all good', /got string, expected a component detail object/],
    ['a boolean', true, /got boolean/],
    ['a function', () => undefined, /got function/],
    ['a symbol', Symbol('s'), /got symbol/],
    ['a nested array', [[{ status: 'pass' }]], /got an array/],
    ['a null node', [{ status: 'pass' }, null], /got null/],
    ['a number node', [{ status: 'pass' }, 5], /got number/],
    ['a circular object', circular, /not serializable as JSON \(TypeError: /],
    ['a BigInt field', { observedValue: 10n }, /not serializable as JSON \(TypeError: .*BigInt/],
    ['a BigInt', 10n, /not serializable as JSON/],
    ['a getter that throws', throwingGetter, /not serializable as JSON \(Error: getter broke\)/],
    ['a huge result', { observedValue: 'x'.repeat(20_000) }, /^Invalid check result: larger than 16384 bytes as JSON$/],
    ['many small nodes too large together', Array.from({ length: 64 }, () => ({ output: 'y'.repeat(300) })), /larger than 16384 bytes/],
    ['more than 64 nodes', Array.from({ length: 65 }, () => ({})), /^Invalid check result: more than 64 nodes$/],
    ['an empty array', [], /^Invalid check result: an empty array \(no nodes\)$/],
    ['an unknown status word', { status: 'degraded' }, /^Invalid check result: unknown status "degraded"$/],
    ['an empty status', { status: '' }, /unknown status ""/],
    ['a number status', { status: 1 }, /unknown status 1/],
    ['a null status', { status: null }, /unknown status null/],
    ['a boolean status', { status: true }, /unknown status true/],
    ['an object componentId', { componentId: { id: 1 } }, /componentId is object, not a string/],
    ['an array componentType', { componentType: ['datastore'] }, /componentType is an array, not a string/],
    ['a null observedUnit', { observedUnit: null }, /observedUnit is null, not a string/],
    ['an object output', { output: { message: 'x' } }, /output is object, not a string/],
    ['a number time', { time: 1700000000000 }, /time 1700000000000 is not an ISO 8601 date-time/],
    ['an invalid Date', { time: new Date(Number.NaN) }, /time null is not an ISO 8601 date-time/],
    ['a word for a time', { status: 'pass', time: 'yesterday' }, /time "yesterday" is not an ISO 8601 date-time/],
    ['a day that does not exist', { time: '2023-02-29T10:00:00Z' }, /time "2023-02-29T10:00:00Z" is not an ISO 8601 date-time/],
    ['a string affectedEndpoints', { affectedEndpoints: '/orders' }, /affectedEndpoints is string, not an array of URI templates/],
    ['numbers in affectedEndpoints', { affectedEndpoints: ['/a', 1] }, /affectedEndpoints has 1, not a URI template/],
    ['a broken URI template', { affectedEndpoints: ['/orders/{id'] }, /affectedEndpoints has "\/orders\/\{id", not a URI template/],
    ['an array of links', { links: ['https://x.example'] }, /links is an array, not an object of URIs/],
    ['a number link', { links: { self: 1 } }, /links has "self" set to 1, not a URI/],
    ['a link that is no URI', { links: { self: 'not a uri' } }, /links has "self" set to "not a uri", not a URI/],
    ['a null links', { links: null }, /links is null, not an object of URIs/],
    ['a link key that is no relation', { links: { 'Not A Relation': 'https://x.example' } }, /^Invalid check result: links has the key "Not A Relation", which is neither a registered relation name nor a URI$/],
    // Regression: a bad value was cut to 64 characters before it was redacted, so a cut before the
    // `@` of a URL's user info left most of the password in the output.
    ['a long password in a link that is no URI', { links: { self: `redis://default:${'averyvery'.repeat(5)}longpassword0123456789@redis:6379 ` } },
      /^Invalid check result: links has "self" set to "redis:\/\/\*\*\*@redis:6379 ", not a URI$/],
    ['a password in a relation URI', { links: { [`https://user:${'averyvery'.repeat(5)}longpassword@rel.example/x`]: 1 } },
      /^Invalid check result: links has "https:\/\/\*\*\*@rel.example\/x" set to 1, not a URI$/],
    ['a long password in a time', { time: `postgres://u:${'averyvery'.repeat(5)}longpassword0123456789@db:5432/x` },
      /^Invalid check result: time "postgres:\/\/\*\*\*@db:5432\/x" is not an ISO 8601 date-time$/],
    ['a long password in an endpoint', { affectedEndpoints: [`{https://u:${'averyvery'.repeat(5)}longpassword@db/x`] },
      /^Invalid check result: affectedEndpoints has "\{https:\/\/\*\*\*@db\/x", not a URI template$/],
    ['one bad node among good ones', [{ status: 'pass' }, { status: 'bogus' }], /unknown status "bogus"/],
    ['a revoked proxy', revoked, /^TypeError: .*revoked/],
    ['an array whose length throws (normalising throws)', brokenArray, /^Error: length broke$/],
    ['an object whose prototype cannot be read', noPrototype, /^Invalid check result: not serializable as JSON \(Error: no prototype\)$/]
  ]
  for (const [label, result, output] of cases) {
    t.test(label, async (t) => {
      const before = Date.now()
      const got = await answerOf(t, () => result)
      const after = Date.now()
      const entry = onlyEntry(t, got, 'c')
      t.equal(entry.status, 'fail')
      t.match(entry.output, output)
      t.ok(isIsoNow(entry.time, before, after), 'the fail entry has the reading time')
      t.same(Object.keys(entry).sort(), ['output', 'status', 'time'], 'nothing of the garbage is kept')
      t.equal(got.statusCode, 503)
      t.equal(got.body.status, 'fail')
      t.equal(got.body.output, `c: fail (${entry.output ?? ''})`)
    })
  }

  t.test('garbage in a non-critical check gives warn', async (t) => {
    const got = await answerOf(t, () => 'nope', { critical: false })
    t.equal(onlyEntry(t, got, 'c').status, 'fail')
    t.equal(got.statusCode, 202)
  })

  // Regression: the status words are looked up in a plain object, so Object.prototype's keys leak
  // through: "constructor" becomes a status-less entry counted as pass, "__proto__" a status {}.
  t.test('a status word that is an Object.prototype key is unknown', async (t) => {
    for (const word of ['__proto__', 'constructor', ' Constructor ']) {
      const res = await (await workingApp(t, { checks: { c: () => ({ status: word as never }) } })).inject('/health')
      const body = res.json() as HealthResponse
      t.same(schemaErrors(body), [], `"${word}": the body matches the schema`)
      t.equal(body.checks?.c?.[0]?.status, 'fail', `"${word}" makes a fail entry`)
      t.match(body.checks?.c?.[0]?.output, /unknown status/, `"${word}" is said to be unknown`)
      t.equal(res.statusCode, 503, `"${word}": 503`)
    }
  })
})

test('throwing and rejecting checks fail with the message, never a stack', async (t) => {
  class DbError extends Error {
    override name = 'DbError'
  }
  const bigintThrown = 10n
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const cases: Array<[string, () => unknown, string]> = [
    ['an Error thrown', () => { throw new Error('connection refused') }, 'Error: connection refused'],
    ['a TypeError thrown', () => { throw new TypeError('x is not a function') }, 'TypeError: x is not a function'],
    ['a custom Error class', () => { throw new DbError('pool exhausted') }, 'DbError: pool exhausted'],
    ['an Error without a message', () => { throw new RangeError() }, 'RangeError'],
    ['an Error rejected', async () => { throw new Error('timeout on SELECT 1') }, 'Error: timeout on SELECT 1'],
    ['a rejected promise', () => Promise.reject(new Error('ECONNRESET')), 'Error: ECONNRESET'],
    ['a string thrown', () => { throw 'plain words' }, 'threw plain words'], // eslint-disable-line no-throw-literal
    ['a string rejected', () => Promise.reject('rejected words'), 'threw rejected words'], // eslint-disable-line prefer-promise-reject-errors
    ['a number thrown', () => { throw 42 }, 'threw 42'], // eslint-disable-line no-throw-literal
    ['an object thrown', () => { throw { code: 'E1' } }, 'threw {"code":"E1"}'], // eslint-disable-line no-throw-literal
    ['null rejected', () => Promise.reject(null), 'threw null'], // eslint-disable-line prefer-promise-reject-errors
    ['undefined thrown', () => { throw undefined }, 'threw undefined'], // eslint-disable-line no-throw-literal
    ['a BigInt thrown', () => { throw bigintThrown }, 'threw a value that cannot be shown'],
    ['a circular object thrown', () => { throw circular }, 'threw a value that cannot be shown'],
    // Regression: an Error made in another realm (a vm context, a worker's message) is no
    // `instanceof Error` here: it showed as `threw {}`, and a plain object's `stack` was shown.
    ['an Error from another realm', () => { throw vm.runInNewContext('new TypeError("boom")') }, 'TypeError: boom'],
    ['an Error from another realm without a message', () => { throw vm.runInNewContext('new RangeError()') }, 'RangeError'],
    ['an object with a stack thrown', () => { throw { code: 'E1', stack: 'Error: x\n    at connect (/app/db.js:1:1)' } }, 'threw {"code":"E1"}'], // eslint-disable-line no-throw-literal
    // JSON.stringify escapes the quotes of JSON in a string: the secrets in it are masked all the same.
    ['an object holding JSON with a password thrown', () => { throw { status: 401, body: JSON.stringify({ password: 'hunter 2', token: 's3"cr3t' }) } }, // eslint-disable-line no-throw-literal
      'threw {"status":401,"body":"{\\"password\\":***,\\"token\\":***}"}'],
    ['an object holding a stack thrown', () => { throw { error: { message: 'x', stack: 'at /app/db.js:1:1' } } }, 'threw {"error":{"message":"x"}}'] // eslint-disable-line no-throw-literal
  ]
  for (const [label, check, output] of cases) {
    t.test(label, async (t) => {
      const got = await answerOf(t, check)
      t.match(onlyEntry(t, got, 'c'), { status: 'fail', output, time: String })
      t.equal(onlyEntry(t, got, 'c').output, output)
      t.equal(got.statusCode, 503)
      t.equal(got.body.output, `c: fail (${output})`)
    })
  }

  t.test('the stack of the error is nowhere in the answer', async (t) => {
    const error = new Error('boom')
    const frames = (error.stack ?? '').split('\n').slice(1).map((line) => line.trim())
    t.ok(frames.length > 0, 'the error has a stack')
    const got = await answerOf(t, () => { throw error })
    for (const frame of frames) t.notOk(got.text.includes(frame), `no "${frame}"`)
    t.notOk(got.text.includes('checks.test.ts'), 'no file name of the test')
  })

  t.test('a long message is cut to 512 characters', async (t) => {
    const got = await answerOf(t, () => { throw new Error('m'.repeat(5000)) })
    const output = onlyEntry(t, got, 'c').output ?? ''
    t.equal(output.length, 512)
    t.ok(output.startsWith('Error: mmm'))
    t.ok(output.endsWith('…'))
  })

  t.test('a multi-line message is kept as it is, without a stack', async (t) => {
    const got = await answerOf(t, () => { throw new Error('first line\nsecond line') })
    t.equal(onlyEntry(t, got, 'c').output, 'Error: first line\nsecond line')
  })

  // Regression: describeThrown() itself throws here, inside the .catch() of CheckRunner#run: the run
  // rejects, #pending is never cleared, and every later request gets the same Fastify 500.
  t.test('an Error whose message cannot be read still gives a fail answer', async (t) => {
    let calls = 0
    const app = await workingApp(t, {
      checks: {
        c: {
          cacheFor: 0,
          check: () => {
            calls++
            const error = new Error('hidden')
            Object.defineProperty(error, 'message', { get () { throw new Error('message getter broke') } })
            throw error
          }
        }
      }
    })
    for (let i = 1; i <= 2; i++) {
      const res = await app.inject('/health')
      t.equal(res.statusCode, 503, `request ${i} answers 503`)
      t.same(schemaErrors(res.json()), [], `request ${i} answers a health document`)
      await sleep(2)
    }
    t.equal(calls, 2, 'the check runs again once its reading is stale')
  })
})

test('a hanging check times out', async (t) => {
  t.test('the answer arrives, says it timed out, and the signal is aborted', async (t) => {
    const signals: AbortSignal[] = []
    const got = await answerOf(t, (signal) => { signals.push(signal); return new Promise(() => {}) }, { timeout: 30 })
    t.match(onlyEntry(t, got, 'c'), { status: 'fail', output: 'Timed out after 30 ms', time: String })
    t.equal(got.statusCode, 503)
    t.equal(got.body.output, 'c: fail (Timed out after 30 ms)')
    t.equal(signals.length, 1)
    const signal = signals[0] as AbortSignal
    t.type(signal, AbortSignal)
    t.ok(signal.aborted, 'the signal is aborted')
    t.match(signal.reason, { message: 'Timed out after 30 ms' })
  })

  t.test('a failed reading keeps the nodes the check last named: which servers, of what kind', async (t) => {
    let hang = false
    const app = await workingApp(t, {
      checks: {
        db: {
          check: (signal) => hang
            ? new Promise((resolve, reject) => { signal.addEventListener('abort', () => reject(signal.reason)) })
            : [{ componentId: 'primary', componentType: 'datastore' }, { componentId: 'replica', componentType: 'datastore' }, { observedValue: 1 }],
          timeout: 30,
          cacheFor: 0
        },
        plain: { check: () => { throw new Error('refused') }, cacheFor: 0 }
      }
    })
    t.strictSame(entriesOf(t, await getAnswer(t, app), 'db').map((entry) => entry.status), ['pass', 'pass', 'pass'])
    hang = true
    const got = await getAnswer(t, app)
    t.match(entriesOf(t, got, 'db'), [
      { componentId: 'primary', componentType: 'datastore', status: 'fail', output: 'Timed out after 30 ms' },
      { componentId: 'replica', componentType: 'datastore', status: 'fail', output: 'Timed out after 30 ms' }
    ], 'one failed entry per named node')
    t.equal(entriesOf(t, got, 'db').length, 2, 'a node with no componentId is not repeated')
    t.strictSame(Object.keys(onlyEntry(t, got, 'plain')).sort(), ['output', 'status', 'time'], 'a check that never named a node fails with one entry')
  })

  t.test('a check that honours the signal', async (t) => {
    const got = await answerOf(t, (signal) => new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason))
    }), { timeout: 20 })
    t.match(onlyEntry(t, got, 'c'), { status: 'fail', output: /Timed out after 20 ms/ })
  })

  t.test('a non-critical hanging check gives warn', async (t) => {
    const got = await answerOf(t, () => new Promise(() => {}), { timeout: 20, critical: false })
    t.equal(got.statusCode, 202)
    t.equal(onlyEntry(t, got, 'c').output, 'Timed out after 20 ms')
  })

  t.test('a hung check is not started again while it still runs', async (t) => {
    let calls = 0
    let release: (() => void) | undefined
    const app = await workingApp(t, {
      checks: {
        c: {
          timeout: 20,
          cacheFor: 0,
          check: () => {
            calls++
            if (calls === 1) return new Promise<undefined>((resolve) => { release = () => resolve(undefined) })
            return { observedValue: calls }
          }
        }
      }
    })
    const first = await getAnswer(t, app)
    t.equal(onlyEntry(t, first, 'c').output, 'Timed out after 20 ms')
    const again = await getAnswer(t, app)
    t.equal(onlyEntry(t, again, 'c').output, 'Timed out after 20 ms', 'the timed-out reading is served')
    // Older than cacheFor + timeout: a fresh run would be waited for, but the hung one blocks it.
    await sleep(60)
    const later = await getAnswer(t, app)
    t.equal(onlyEntry(t, later, 'c').output, 'Timed out after 20 ms', 'still the timed-out reading')
    t.equal(calls, 1, 'the check was not started a second time')

    release?.()
    await sleep(1)
    const after = await getAnswer(t, app)
    t.equal(calls, 2, 'once it settled, the next request runs it again')
    t.equal(after.statusCode, 200, 'and waits for the new reading, the old one being too old')
    t.equal(onlyEntry(t, after, 'c').observedValue, 2)
  })
})

test('critical and non-critical checks', async (t) => {
  const fail: CheckFunction = () => ({ status: 'fail', output: 'down' })
  const warn: CheckFunction = () => ({ status: 'warn', output: 'slow' })
  const cases: Array<[string, FastifyHealthOptions['checks'], 'pass' | 'warn' | 'fail']> = [
    ['critical fail', { a: fail }, 'fail'],
    ['explicitly critical fail', { a: { check: fail, critical: true } }, 'fail'],
    ['non-critical fail', { a: { check: fail, critical: false } }, 'warn'],
    ['non-critical warn', { a: { check: warn, critical: false } }, 'warn'],
    ['non-critical fail and critical warn', { a: { check: fail, critical: false }, b: warn }, 'warn'],
    ['non-critical fail and critical fail', { a: { check: fail, critical: false }, b: fail }, 'fail'],
    ['non-critical pass', { a: { check: () => undefined, critical: false } }, 'pass']
  ]
  for (const [label, checks, status] of cases) {
    t.test(label, async (t) => {
      const app = await workingApp(t, { checks })
      const got = await getAnswer(t, app)
      t.equal(got.body.status, status)
      t.equal(got.statusCode, healthCodes[status])
      if (label.startsWith('non-critical fail')) t.equal(onlyEntry(t, got, 'a').status, 'fail', 'the entry itself still says fail')
    })
  }
})

test('the overall status is the worst of the state and every check', async (t) => {
  const byStatus: Record<string, CheckFunction> = {
    pass: () => undefined,
    warn: () => ({ status: 'warn' }),
    fail: () => ({ status: 'fail' })
  }
  const cases: Array<[State, string[], 'pass' | 'warn' | 'fail']> = [
    [State.WORK, [], 'pass'],
    [State.WORK, ['pass', 'pass'], 'pass'],
    [State.WORK, ['pass', 'warn'], 'warn'],
    [State.WORK, ['warn', 'fail', 'pass'], 'fail'],
    [State.WARMUP, ['pass'], 'warn'],
    [State.WARMUP, ['fail'], 'fail'],
    [State.SHUTDOWN, ['warn'], 'warn'],
    [State.NOINFO, ['pass'], 'fail']
  ]
  for (const [state, statuses, expected] of cases) {
    t.test(`${state} with [${statuses.join(', ')}]`, async (t) => {
      const checks: Record<string, CheckFunction> = {}
      statuses.forEach((status, i) => { checks[`c${i}`] = byStatus[status] as CheckFunction })
      const app = await workingApp(t, { initialState: state, checks })
      const got = await getAnswer(t, app)
      t.equal(got.body.status, expected)
      t.equal(got.statusCode, healthCodes[expected])
    })
  }
})

test('the top-level output summarises what failed', async (t) => {
  t.test('each non-passing check, in order, with its first output', async (t) => {
    const app = await workingApp(t, {
      checks: {
        db: () => { throw new Error('db down') },
        ok: () => undefined,
        cache: () => ({ status: 'warn' }),
        queue: () => [{ status: 'pass', output: 'fine' }, { status: 'fail', output: 'broker 2 unreachable' }]
      }
    })
    const got = await getAnswer(t, app)
    t.equal(got.body.output, 'db: fail (Error: db down); cache: warn; queue: fail (fine)')
  })

  t.test('the state comes first when it is not Working', async (t) => {
    const app = await workingApp(t, { initialState: State.WARMUP, checks: { db: () => ({ status: 'down', output: 'refused' }) } })
    const got = await getAnswer(t, app)
    t.equal(got.body.output, 'Service state: Warming up; db: fail (refused)')
    t.same(got.body.notes, ['Service is not healthy, it is warming up or shutting down, and checks fail'], 'the notes say the checks made it worse')
  })

  t.test('no output when everything passes', async (t) => {
    const app = await workingApp(t, { checks: { db: () => ({ output: 'all fine', status: 'ok' }) } })
    const got = await getAnswer(t, app)
    t.equal(got.body.status, 'pass')
    t.notOk('output' in got.body)
  })

  t.test('a long summary is cut to 1024 characters', async (t) => {
    const checks: Record<string, CheckFunction> = {}
    for (let i = 0; i < 5; i++) checks[`c${i}`] = () => { throw new Error('e'.repeat(400)) }
    const app = await workingApp(t, { checks })
    const got = await getAnswer(t, app)
    t.equal(got.body.output?.length, 1024)
    t.ok(got.body.output?.startsWith('c0: fail (Error: eee'))
    t.ok(got.body.output?.endsWith('…'))
  })
})

test('checks and the probes', async (t) => {
  const failing: CheckFunction = () => ({ status: 'fail', output: 'broken' })

  t.test('by default a check counts for /health and /health/ready, not /health/live', async (t) => {
    const app = await workingApp(t, { checks: { db: failing } })
    t.equal((await getAnswer(t, app)).statusCode, 503)
    const ready = await getAnswer(t, app, '/health/ready')
    t.equal(ready.statusCode, 503)
    t.equal(ready.body.status, 'fail')
    t.equal(ready.body.output, 'db: fail (broken)')
    t.ok(ready.body.checks?.db)
    const live = await getAnswer(t, app, '/health/live')
    t.equal(live.statusCode, 200)
    t.equal(live.body.status, 'pass')
    t.notOk(live.body.checks, 'the liveness answer lists no readiness check')
    t.equal((await getAnswer(t, app, '/health/started')).statusCode, 200, 'started counts no check')
  })

  t.test("probes: ['live'] makes a failing check fail liveness only", async (t) => {
    const app = await workingApp(t, { checks: { heart: { check: failing, probes: ['live'] } } })
    const live = await getAnswer(t, app, '/health/live')
    t.equal(live.statusCode, 503)
    t.same(live.body.notes, ['A liveness check fails'])
    t.equal(live.body.output, 'heart: fail (broken)')
    const ready = await getAnswer(t, app, '/health/ready')
    t.equal(ready.statusCode, 200)
    t.notOk(ready.body.checks)
    t.equal((await getAnswer(t, app)).statusCode, 503, '/health counts every check')
  })

  t.test("probes: ['live', 'ready'] counts for both; [] for /health only", async (t) => {
    const app = await workingApp(t, { checks: { both: { check: failing, probes: ['live', 'ready'] }, none: { check: failing, probes: [] } } })
    const live = await getAnswer(t, app, '/health/live')
    const ready = await getAnswer(t, app, '/health/ready')
    t.equal(live.statusCode, 503)
    t.equal(ready.statusCode, 503)
    t.same(Object.keys(live.body.checks ?? {}), ['both'])
    t.same(Object.keys(ready.body.checks ?? {}), ['both'])
    const health = await getAnswer(t, app)
    t.same(Object.keys(health.body.checks ?? {}), ['both', 'none'])
  })

  t.test('a failing non-critical readiness check keeps the service ready, with warnings', async (t) => {
    const app = await workingApp(t, { checks: { db: { check: failing, critical: false } } })
    const ready = await getAnswer(t, app, '/health/ready')
    t.equal(ready.statusCode, 200)
    t.equal(ready.body.status, 'warn')
    t.same(ready.body.notes, ['Service is ready, with warnings'])
  })

  t.test('a passing readiness check does not make a service that is warming up ready', async (t) => {
    const app = await workingApp(t, { initialState: State.WARMUP, checks: { db: () => undefined } })
    const ready = await getAnswer(t, app, '/health/ready')
    t.equal(ready.statusCode, 503)
    t.equal(ready.body.output, 'Service state: Warming up')
  })

  t.test('a probe runs only the checks it counts', async (t) => {
    const calls = { live: 0, ready: 0 }
    const app = await workingApp(t, {
      checks: {
        l: { check: () => { calls.live++ }, probes: ['live'] },
        r: { check: () => { calls.ready++ } }
      }
    })
    await getAnswer(t, app, '/health/live')
    t.same(calls, { live: 1, ready: 0 })
    await getAnswer(t, app, '/health/ready')
    t.same(calls, { live: 1, ready: 1 })
    await getAnswer(t, app, '/health/started')
    t.same(calls, { live: 1, ready: 1 }, 'started runs none')
  })
})
