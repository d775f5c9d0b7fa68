// The history (issue 21): the rings (bounded, in order, wrapping round as a naive model does),
// what each check and the overall status keep, health.history(), GET {path}/checks/:name/history
// over inject and real HTTP with the drill-down's detail policy, its schema, and the options.
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fastifySwagger from '@fastify/swagger'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import fc from 'fast-check'
import Fastify from 'fastify'
import { test } from 'tap'
import type { CheckRun, RunListener } from '../lib/controller.js'
import type { CheckRunner } from '../lib/engine/runner.js'
import { CheckRings, type ReadingRow, rowOf } from '../lib/history/check-rings.js'
import { PendingReadings } from '../lib/history/pending.js'
import { Ring } from '../lib/history/ring.js'
import * as historySchemas from '../lib/history/schema.js'
import { buildHistorySchemas } from '../lib/history/schema-typebox.js'
import { NO_STATUS } from '../lib/history/status-codes.js'
import { StatusRings } from '../lib/history/status-rings.js'
import { createHistory } from '../lib/history/store.js'
import fastifyHealth, { CheckHistorySchema, type FastifyHealthOptions, State, StatusHistorySchema } from '../lib/index.js'
import { controlledCheck, newApp, servedApp, transports, until } from './helpers.js'

const checkHistory = TypeCompiler.Compile(CheckHistorySchema)
const statusHistory = TypeCompiler.Compile(StatusHistorySchema)
const errorsOf = (compiled: typeof checkHistory | typeof statusHistory, document: unknown): string[] =>
  [...compiled.Errors(document)].map((error) => `${error.path}: ${error.message}`)

const JSON_TYPE = 'application/json; charset=utf-8'
const HEALTH_TYPE = 'application/health+json; charset=utf-8'

test('a ring keeps the last `size` records in order, growing lazily and wrapping round as a naive model', async (t) => {
  // Rows of fields of three widths over one buffer (value: f64 at 0, order: f32 at 8, small: u8
  // at 12): a field written in one row never shows in another, nor in another field.
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 70 }),
    fc.array(fc.double({ noNaN: true }), { maxLength: 300 }),
    (size, values) => {
      const ring = new Ring(size, 13)
      if (ring.stride !== 16) return false
      const model: Array<[number, number, number]> = []
      for (const [index, value] of values.entries()) {
        const row = ring.push()
        ring.view.setFloat64(row, value, true)
        ring.view.setFloat32(row + 8, index, true)
        ring.view.setUint8(row + 12, index % 256)
        model.push([value, index, index % 256])
        if (model.length > size) model.shift()
        if (ring.length !== model.length || ring.allocated > size || ring.allocated < ring.length) return false
      }
      const kept: Array<[number, number, number]> = []
      for (let index = 0; index < ring.length; index++) {
        const row = ring.row(index)
        kept.push([ring.view.getFloat64(row, true), ring.view.getFloat32(row + 8, true), ring.view.getUint8(row + 12)])
      }
      return isDeepStrictEqual(kept, model)
    }
  ), { numRuns: 300 })
  const ring = new Ring(1000, 8)
  t.equal(ring.allocated, 16, 'small at first')
  for (let index = 0; index < 17; index++) ring.push()
  t.equal(ring.allocated, 1000, 'its whole size when full')
  for (let index = 0; index < 5000; index++) ring.push()
  t.equal(ring.allocated, 1000, 'never past its size')
  t.equal(ring.length, 1000)
})

const run = (fields: Partial<CheckRun>): CheckRun =>
  ({ name: 'db', status: 'pass', counted: 'pass', previous: 'pass', durationMs: 2, entries: [], at: 1_700_000_000_000, ...fields })
/** What the rings keep of such a run. */
const row = (fields: Partial<CheckRun>): ReadingRow => rowOf(run(fields))

test('a check\'s rings: readings with value and unit, changes with their output, the window', async (t) => {
  const rings = new CheckRings('db', { readings: 4, changes: 2 })
  let doc = rings.document()
  t.same(doc, { name: 'db', status: null, since: null, size: { readings: 4, changes: 2 }, readings: [], changes: [] }, 'nothing before the first reading')
  t.same(errorsOf(checkHistory, doc), [])
  t.equal(rings.changesInWindow(), 0)

  const at = 1_700_000_000_000
  rings.record(row({ at, previous: undefined, entries: [{ observedValue: 'text' }, { observedValue: 3, observedUnit: 'ms' }] }))
  rings.record(row({ at: at + 1000, status: 'fail', counted: 'fail', entries: [{ status: 'fail', output: 'connect postgres://orders:hunter2@db:5432 refused' }] }))
  rings.record(row({ at: at + 2000, status: 'fail', counted: 'warn', previous: 'fail', entries: [{ observedValue: Infinity, observedUnit: 'ms' }] }))
  doc = rings.document()
  t.same(errorsOf(checkHistory, doc), [], 'valid by the schema')
  t.same(doc.readings, [
    { time: new Date(at).toISOString(), status: 'pass', counted: 'pass', durationMs: 2, observedValue: 3, observedUnit: 'ms' },
    { time: new Date(at + 1000).toISOString(), status: 'fail', counted: 'fail', durationMs: 2 },
    { time: new Date(at + 2000).toISOString(), status: 'fail', counted: 'warn', durationMs: 2 }
  ], 'the first finite number is the value; none kept otherwise')
  t.match(doc.changes, [{ from: null, to: 'pass' }, { from: 'pass', to: 'fail' }, { from: 'fail', to: 'warn' }].slice(1), 'the last two changes only')
  t.equal(doc.changes.length, 2)
  t.equal(doc.status, 'warn')
  t.equal(doc.since, new Date(at + 2000).toISOString())
  t.equal(rings.changesInWindow(), 2, 'the first reading is no change')
  t.notMatch(JSON.stringify(doc), 'hunter2', 'the output is redacted')

  for (let index = 3; index < 10; index++) rings.record(row({ at: at + index * 1000, counted: 'warn', previous: 'warn' }))
  t.equal(rings.document().readings.length, 4, 'bounded')
  t.equal(rings.changesInWindow(), 0, 'the changes before the oldest reading kept are out of the window')

  // Past 255 units, a reading keeps none.
  const many = new CheckRings('units', { readings: 300, changes: 1 })
  for (let index = 0; index < 300; index++) many.record(row({ entries: [{ observedValue: index, observedUnit: `u${index}` }] }))
  const units = many.document().readings.map((reading) => reading.observedUnit)
  t.equal(units[254], 'u254')
  t.equal(units[299], undefined, 'no unit kept past the table')
  t.equal(many.document().readings[299]?.observedValue, 299)

  // Units that take turns: each reading keeps its own, whichever came last.
  const turns = new CheckRings('turns', { readings: 6, changes: 1 })
  const sequence = ['ms', 'ms', 's', 'ms', 's', 's']
  for (const unit of sequence) turns.record(row({ entries: [{ observedValue: 1, observedUnit: unit }] }))
  t.same(turns.document().readings.map((reading) => reading.observedUnit), sequence)
})

test('pending readings: written in the order they came, all at once, when full or when asked', async (t) => {
  const written: Array<[string, ReadingRow]> = []
  const pending = new PendingReadings<string>((key, row) => { written.push([key, { ...row }]) })
  const at = 1_700_000_000_000
  // More than the buffer holds (8,192): it grows from 64 on the way, and writes everything once full.
  for (let index = 0; index < 8200; index++) {
    pending.push(`c${index % 3}`, run({ at: at + index, durationMs: index, previous: index === 0 ? undefined : 'pass', entries: [{ observedValue: index, observedUnit: 'ms' }] }))
  }
  t.equal(written.length, 8192, 'the full buffer was written when the next reading came')
  t.equal(pending.length, 8, 'and the rest wait')
  pending.flush()
  t.equal(written.length, 8200, 'a flush writes them')
  t.equal(pending.length, 0)
  t.ok(written.every(([key, row], index) => key === `c${index % 3}` && row.at === at + index && row.durationMs === index && row.value === index && row.unit === 'ms'),
    'each as it came, in order')
  t.same(written[0]?.[1], { at, value: 0, unit: 'ms', durationMs: 0, status: 0, counted: 0, previous: NO_STATUS, output: undefined }, 'the first: a change from no status')
  pending.flush()
  t.equal(written.length, 8200, 'nothing twice')
})

test('the overall status\'s ring: from, to, cause, bounded', async (t) => {
  const rings = new StatusRings(3, 'fail', 1000)
  t.same(rings.document(), { status: 'fail', since: new Date(1000).toISOString(), size: 3, changes: [] })
  rings.record({ at: 2000, from: 'fail', to: 'pass', cause: { state: State.WORK } })
  for (let index = 0; index < 4; index++) rings.record({ at: 3000 + index, from: 'pass', to: 'warn', cause: { check: `c${index}` } })
  const doc = rings.document()
  t.same(errorsOf(statusHistory, doc), [])
  t.same(doc.changes.map((change) => change.cause), [{ check: 'c1' }, { check: 'c2' }, { check: 'c3' }])
  t.same(rings.records(1).map((change) => change.cause), [{ check: 'c3' }], 'the newest')
  t.equal(doc.status, 'warn')
  t.equal(doc.since, new Date(3003).toISOString())
})

test('the schemas are what TypeBox builds, and exported', async (t) => {
  for (const [name, built] of Object.entries(buildHistorySchemas())) {
    const ours = historySchemas[name as keyof typeof historySchemas]
    t.ok(isDeepStrictEqual(ours, built), `${name} is TypeBox's schema, markers included`)
  }
})

/** A check whose status the test sets, with an observed value. */
function valuedCheck () {
  const control = controlledCheck()
  let value = 1
  return {
    ...control,
    check: () => ({ ...control.check(), observedValue: value++, observedUnit: 'ms' })
  }
}

test('health.history(): a check\'s readings and changes, the overall status\'s changes and causes', async (t) => {
  const db = valuedCheck()
  const { app, call } = await servedApp(t, 'inject', {
    initialState: State.NOINFO,
    checks: { 'db:responseTime': { check: db.check, cacheFor: 0 } }
  })
  t.same(app.health.history('db:responseTime'), { name: 'db:responseTime', status: null, since: null, size: { readings: 3600, changes: 100 }, readings: [], changes: [] }, 'no reading yet')
  app.health.setStateWorking()
  await call('/health')
  db.set('fail')
  await call('/health')
  await call('/health')
  db.set('pass')
  await call('/health')
  const doc = app.health.history('db:responseTime')
  t.same(errorsOf(checkHistory, doc), [])
  t.same(doc?.readings.map((reading) => [reading.status, reading.observedValue, reading.observedUnit]),
    [['pass', 1, 'ms'], ['fail', 2, 'ms'], ['fail', 3, 'ms'], ['pass', 4, 'ms']])
  t.match(doc?.changes, [{ from: null, to: 'pass' }, { from: 'pass', to: 'fail', output: 'it is fail' }, { from: 'fail', to: 'pass' }])
  t.equal(app.health.history('nothing:here'), undefined, 'no such check')

  const overall = app.health.history()
  t.same(errorsOf(statusHistory, overall), [])
  t.match(overall?.changes, [
    { from: 'fail', to: 'pass', cause: { state: State.WORK } },
    { from: 'pass', to: 'fail', cause: { check: 'db:responseTime' } },
    { from: 'fail', to: 'pass', cause: { check: 'db:responseTime' } }
  ])
  t.equal(overall?.status, 'pass')

  // Removed: forgotten, and a check added again under the name starts afresh.
  app.health.removeCheck('db:responseTime')
  t.equal(app.health.history('db:responseTime'), undefined, 'a removed check has no history')
  app.health.addCheck('db:responseTime', () => ({ status: 'warn', output: 'again' }), { cacheFor: 0 })
  await call('/health')
  t.match(app.health.history('db:responseTime'), { status: 'warn', readings: [{ status: 'warn' }], changes: [{ from: null, to: 'warn', output: 'again' }] })
})

test('history: false turns it off: health.history() is undefined and there is no route', async (t) => {
  const { app, call } = await servedApp(t, 'inject', { history: false, exposeDetails: true, checks: { db: () => undefined } })
  await call('/health')
  t.equal(app.health.history('db'), undefined)
  t.equal(app.health.history(), undefined)
  const res = await call('/health/checks/db/history')
  t.equal(res.statusCode, 404)
  t.not(res.contentType, HEALTH_TYPE, 'Fastify\'s own 404')
})

test('a removed check\'s rings go with it: memory follows the checks there are', async (t) => {
  const { app, call } = await servedApp(t, 'inject', { history: { readings: 2, changes: 2 } })
  const rings = (name: string) => (app.health.history(name)?.readings.length ?? 0)
  for (let round = 0; round < 300; round++) {
    app.health.addCheck(`c${round}`, () => undefined, { cacheFor: 0 })
    await call('/health')
    app.health.removeCheck(`c${round}`)
  }
  t.equal(rings('c299'), 0)
  // The store is internal: watch what it holds through a fresh one on the same lifecycle shape.
  // Its rings are kept by each check's runner: once nothing holds a removed check's runner, the
  // collector takes its rings too.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const collected = new Set<string>()
  const watch = new FinalizationRegistry<string>((name) => { collected.add(name) })
  const listeners: RunListener[] = []
  const present = new Map<string, CheckRunner>()
  const history = createHistory({
    checks: { get: (name: string) => present.get(name) } as never,
    onRun: (listener) => { listeners.push(listener); return () => {} },
    onStatus: () => () => {},
    snapshot: () => ({ status: 'pass', checks: [] })
  }, { readings: 2, changes: 2 })
  const feed = (name: string): void => {
    const runner = {} as CheckRunner
    present.set(name, runner)
    for (const listener of listeners) listener(run({ name }), runner)
    watch.register(history.rings(name) as CheckRings, name)
  }
  for (let index = 0; index < 100; index++) {
    feed(`c${index}`)
    present.delete(`c${index}`)
  }
  feed('kept')
  for (let attempt = 0; attempt < 20 && collected.size < 100; attempt++) {
    gc()
    await sleep(10)
  }
  t.equal(collected.size, 100, 'the rings of the 100 removed checks were collected')
  t.notOk(collected.has('kept'), 'a present check keeps its rings')
  t.ok(history.rings('kept'))
  t.equal(history.rings('c0'), undefined, 'and a name no check has, none')
  history.stop()
})

for (const transport of transports) {
  test(`GET {path}/checks/:name/history (${transport})`, async (t) => {
    const db = valuedCheck()
    const { call } = await servedApp(t, transport, {
      exposeDetails: true,
      checks: { 'db:responseTime': { check: db.check, cacheFor: 0 }, 'disk:/var/lib': () => undefined }
    })
    await call('/health')
    db.set('warn')
    await call('/health')
    for (const url of ['/health/checks/db:responseTime/history', '/health/checks/db%3AresponseTime/history']) {
      const res = await call(url)
      t.equal(res.statusCode, 200, url)
      t.equal(res.contentType, JSON_TYPE)
      t.equal(res.cacheControl, 'max-age=5')
      const doc = JSON.parse(res.text)
      t.same(errorsOf(checkHistory, doc), [], 'valid by the exported schema')
      t.match(doc, { name: 'db:responseTime', status: 'warn', changes: [{ to: 'pass' }, { from: 'pass', to: 'warn', output: 'it is warn' }] })
    }
    t.equal((await call('/health/checks/disk%3A%2Fvar%2Flib/history')).statusCode, 200, 'a name with slashes, percent-encoded')
    const missing = await call('/health/checks/db:nothing/history')
    t.equal(missing.statusCode, 404)
    t.equal(missing.contentType, HEALTH_TYPE, 'the drill-down\'s 404 document')
    t.match(missing.body, { status: 'fail', output: 'No check is named "db:nothing"' })
    t.equal((await call('/health/checks/db:responseTime/history', 'HEAD')).statusCode, 200, 'HEAD')
  })

  test(`the history route without permission: the 404 of an unknown name (${transport})`, async (t) => {
    const { call } = await servedApp(t, transport, {
      exposeDetails: false,
      checks: { 'db:responseTime': () => undefined }
    })
    await call('/health')
    const known = await call('/health/checks/db:responseTime/history')
    const unknown = await call('/health/checks/db:nothing/history')
    t.equal(known.statusCode, 404)
    t.equal(known.contentType, unknown.contentType)
    t.same(known.body, { ...unknown.body, output: 'No check is named "db:responseTime"' }, 'nothing tells that it exists')
    t.notMatch(known.text, 'readings')
  })
}

test('the history route follows a per-request policy, and one that throws hides', async (t) => {
  const { app } = await servedApp(t, 'inject', {
    exposeDetails: (request) => {
      if (request.headers['x-throw'] !== undefined) throw new Error('policy broke')
      return request.headers['x-token'] === 'secret'
    },
    checks: { db: () => undefined },
    prefix: '/ops',
    path: '/status/'
  })
  const url = '/ops/status/checks/db/history'
  t.equal((await app.inject({ url, headers: { 'x-token': 'secret' } })).statusCode, 200)
  t.equal((await app.inject({ url, headers: { 'x-token': 'secret', 'x-throw': '1' } })).statusCode, 404)
  t.equal((await app.inject(url)).statusCode, 404)
})

test('openapi: the history route is documented with its schema', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySwagger, { openapi: { info: { title: 'orders', version: '1.0.0' } } })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { db: () => undefined }, statusPage: true })
  await app.ready()
  const paths = (app.swagger() as unknown as { paths: Record<string, { get?: { summary?: string, tags?: string[], responses: Record<string, { content?: Record<string, { schema: unknown }> }> } }> }).paths
  const operation = paths['/health/checks/{name}/history']?.get
  t.match(operation?.summary, /History of one check/)
  t.ok(operation?.tags?.includes('health'))
  t.match(operation?.responses['200']?.content?.['application/json']?.schema, { type: 'object', required: ['name', 'status', 'since', 'size', 'readings', 'changes'] })
  t.ok(operation?.responses['404']?.content?.['application/health+json'], 'the 404 document')
  t.match(paths['/health/ui']?.get?.summary, /Status page/)
  t.ok(paths['/health/ui/data']?.get)
})

test('options: history and statusPage are checked, and their routes claimed', async (t) => {
  const register = async (options: Record<string, unknown>, before?: (app: ReturnType<typeof newApp>) => void) => {
    const app = newApp(t)
    before?.(app)
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', ...options } as FastifyHealthOptions)
    await app.ready()
    return app
  }
  const invalid = [
    [{ history: 'yes' }, /option "history" must be a boolean or \{ readings, changes \}/],
    [{ history: { readings: 0 } }, /option "history" sets readings: it must be an integer from 1 to 1000000/],
    [{ history: { changes: 1.5 } }, /sets changes/],
    [{ history: { size: 3 } }, /has an unknown option "size"/],
    [{ statusPage: 'on' }, /option "statusPage" must be a boolean or \{ path, refresh \}/],
    [{ statusPage: { refresh: 0 } }, /sets refresh/],
    [{ statusPage: { path: 'ui' } }, /sets path/],
    [{ statusPage: { path: '/ui/:x' } }, /sets path/],
    [{ statusPage: true, history: false }, /option "statusPage" needs the history/]
  ] as const
  for (const [options, message] of invalid) {
    await t.rejects(register(options), { code: 'FST_HEALTH_INVALID_OPTION', message }, JSON.stringify(options))
  }
  await t.rejects(register({ statusPage: true, groups: { ui: {} } }), { code: 'FST_HEALTH_ROUTE_TAKEN', message: /the status page cannot be served at GET \/health\/ui: group "ui" is there already/ })
  await t.rejects(register({ statusPage: { path: '/health/checks/ui' } }), { code: 'FST_HEALTH_ROUTE_TAKEN', message: /the check drill-down/ })
  const free = await register({ statusPage: { path: '/health/checks/ui' }, drillDown: false })
  t.equal((await free.inject('/health/checks/ui')).statusCode, 200, 'without the drill-down the path is free')
  await t.rejects(register({ statusPage: true }, (app) => { app.get('/health/ui/data', async () => 'mine') }), { code: 'FST_HEALTH_ROUTE_TAKEN', message: /status page data .* a route of the application/ })
  const app = await register({ statusPage: { path: '/status', refresh: 2 }, history: true, prefix: '/ops' })
  t.equal((await app.inject('/ops/status')).statusCode, 200, 'served at its path under the prefix')
  t.match((await app.inject('/ops/status')).body, 'data-source="/ops/status/data" data-refresh="2"')
  t.equal((await app.inject('/ops/health/ui')).statusCode, 404, 'not at the default path')
  const off = await register({})
  t.equal((await off.inject('/health/ui')).statusCode, 404, 'off by default')
})

test('the status page\'s routes over inject: the page and its policy, the data with and without permission', async (t) => {
  let release = (): void => {}
  let started = false
  const { app } = await servedApp(t, 'inject', {
    version: '2',
    exposeDetails: (request) => request.headers['x-token'] === 'secret',
    statusPage: true,
    checks: {
      'db:responseTime': {
        cacheFor: 0,
        check: async () => {
          started = true
          await new Promise<void>((resolve) => { release = resolve })
          return { status: 'fail', output: 'down', observedValue: 7, observedUnit: 'ms' }
        }
      }
    }
  })
  const page = await app.inject('/health/ui')
  t.equal(page.statusCode, 200)
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.headers['content-security-policy'], /^default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'; img-src data:/)
  t.ok(page.body.length < 30 * 1024, `under 30 KB (${page.body.length} bytes)`)
  t.notMatch(page.body, 'db:responseTime', 'the page itself names no check')

  // A check added while the data waits for the others' readings is listed with none.
  const waiting = app.inject({ url: '/health/ui/data', headers: { 'x-token': 'secret' } })
  await until(t, () => started, 'the run started')
  app.health.addCheck('late:check', () => undefined)
  release()
  const shown = await waiting
  t.equal(shown.headers['content-type'], JSON_TYPE)
  const data = shown.json()
  t.match(data, {
    details: true,
    service: { name: 'orders', version: '2', state: State.WORK, status: 'fail' },
    views: [{ name: 'live', url: '/health/live', status: 'pass' }, { name: 'ready', status: 'fail' }, { name: 'started', status: 'pass' }],
    checks: [
      { name: 'db:responseTime', status: 'fail', output: 'down', value: 7, unit: 'ms', values: [7], strip: 'f', changes: 0 },
      { name: 'late:check', status: null, values: [], strip: '', since: null }
    ],
    changes: [{ from: 'pass', to: 'fail', cause: { check: 'db:responseTime' } }]
  })
  // Once it has read: a reading without an observed value is a gap in the values (null), not a 0.
  started = false
  const again = app.inject({ url: '/health/ui/data', headers: { 'x-token': 'secret' } })
  await until(t, () => started, 'the next run started')
  release()
  t.match((await again).json().checks[1], { name: 'late:check', status: 'pass', values: [null], value: null, strip: 'p' })
  const hidden = await app.inject('/health/ui/data')
  t.equal(hidden.statusCode, 200)
  t.same(hidden.json(), { details: false, status: 'fail' }, 'without permission: the overall status alone')
})
