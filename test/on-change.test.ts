import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import fastifyHealth, { type FastifyHealthOptions, type HealthReport, type HealthResponse, State, type Status } from '../lib/index.js'
import { loggedApp, schemaErrors } from './helpers.js'

type Line = Record<string, unknown>

interface Change {
  current: Status
  previous: Status
  report: HealthReport
}

interface Rig {
  app: FastifyInstance
  lines: Line[]
  /** What the check below returns next. */
  set: (status: Status) => void
  /** GET /health, after the reading is old enough that the request waits for a new run. */
  read: () => Promise<HealthReport>
}

/**
 * A logged instance, Working, with one check `db` whose status is set by the test. cacheFor 0: a
 * request waits for a fresh run (and, were stale readings served within cacheFor + timeout, the
 * 5 ms pause before each request is past that too; the check is synchronous, so it always beats
 * its 1 ms timer).
 */
async function rig (t: Test, options: Partial<FastifyHealthOptions> = {}): Promise<Rig> {
  const { app, lines } = loggedApp()
  t.teardown(() => app.close())
  let status: Status = 'pass'
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    checks: { db: { check: () => (status === 'pass' ? {} : { status, output: `db is ${status}` }), cacheFor: 0, timeout: 1 } },
    ...options
  })
  return {
    app,
    lines,
    set: (next) => { status = next },
    read: async () => {
      await sleep(5)
      const res = await app.inject('/health')
      const body = res.json() as HealthResponse
      t.same(schemaErrors(body), [], 'GET /health matches the schema')
      return { statusCode: res.statusCode, body }
    }
  }
}

/** A body without the reading times, which differ between two runs of the same check. */
function timeless (body: HealthResponse): HealthResponse {
  const copy = structuredClone(body)
  for (const entries of Object.values(copy.checks ?? {})) for (const entry of entries) delete entry.time
  return copy
}

const changeLines = (lines: Line[]): Line[] => lines.filter((line) => line.msg === 'fastify-health: status changed')

test('onChange is called once per change of the overall status, in order', async (t) => {
  const { app, lines, set, read } = await rig(t)
  const changes: Change[] = []
  app.health.onChange((current, previous, report) => { changes.push({ current, previous, report }) })
  const codes = { pass: 200, warn: 202, fail: 503 }

  /** Asserts the changes since the last step, and that each report is what GET /health answers. */
  const step = async (label: string, expected: Array<[Status, Status]>): Promise<void> => {
    const fresh = changes.splice(0)
    t.same(fresh.map((c) => [c.current, c.previous]), expected, `${label}: ${expected.length} change(s)`)
    const answer = await read()
    for (const { current, report } of fresh.slice(-1)) {
      t.same(schemaErrors(report.body), [], `${label}: the report matches the schema`)
      t.equal(report.body.status, current, `${label}: the report says ${current}`)
      t.equal(report.statusCode, codes[current], `${label}: the report has the code of ${current}`)
      t.equal(answer.statusCode, report.statusCode, `${label}: GET /health answers the same code`)
      t.same(timeless(answer.body), timeless(report.body), `${label}: GET /health answers the same document`)
    }
    t.same(changes.splice(0), [], `${label}: reading again changes nothing`)
  }

  await read()
  await step('the first passing reading', [])
  set('warn')
  await read()
  await step('the check warns', [['warn', 'pass']])
  await read()
  await step('it warns again', [])
  app.health.setStateWarmUp()
  await step('warming up while warning', [])
  set('fail')
  await read()
  await step('the check fails', [['fail', 'warn']])
  app.health.setStateWorking()
  await step('working while failing', [])
  set('pass')
  await read()
  await step('the check passes', [['pass', 'fail']])
  app.health.setStateShutDown()
  await step('shutting down', [['warn', 'pass']])
  app.health.setStateNoInfo()
  await step('no information', [['fail', 'warn']])
  app.health.setStateNoInfo()
  await step('the same state again', [])
  app.health.setStateWorking()
  await step('working again', [['pass', 'fail']])

  const logged = changeLines(lines)
  t.same(logged.map((line) => [line.to, line.from]), [
    ['warn', 'pass'], ['fail', 'warn'], ['pass', 'fail'], ['warn', 'pass'], ['fail', 'warn'], ['pass', 'fail']
  ], 'each change logged once, in order')
  // A check that turns worse warns whoever is on call; a state change (shutting down) was asked for.
  t.same(logged.map((line) => line.level), [40, 40, 30, 30, 30, 30], 'warn when a check makes it worse, info when better or when the state changed it')
  t.same(logged.map((line) => line.cause), [{ check: 'db' }, { check: 'db' }, { check: 'db' }, { state: 'Shutting down' }, { state: 'No information' }, { state: 'Working' }], 'each line names its cause')
  t.equal(logged[0]?.output, 'db: warn (db is warn)', 'the log line carries the summary')
  t.equal(logged[1]?.output, 'Service state: Warming up; db: fail (db is fail)')
  t.notOk('output' in (logged[2] ?? {}), 'no output when passing')
})

test('the report is a copy: a listener cannot change what is served', async (t) => {
  const { app, set, read } = await rig(t)
  const reports: HealthReport[] = []
  app.health.onChange((current, previous, report) => {
    reports.push(report)
    report.body.status = 'pass'
    report.body.checks = {}
  })
  app.health.onChange((current, previous, report) => { reports.push(report) })
  set('fail')
  const answer = await read()
  t.equal(reports.length, 2)
  t.equal(reports[1]?.body.status, 'fail', 'the next listener gets its own copy')
  t.equal(answer.statusCode, 503)
  t.equal(answer.body.status, 'fail')
  t.ok(answer.body.checks?.db)
})

test('listeners are called in the order they were added', async (t) => {
  const { app } = await rig(t)
  const order: string[] = []
  app.health.onChange(() => { order.push('first') })
  app.health.onChange(() => { order.push('second') })
  app.health.onChange(() => { order.push('third') })
  app.health.setStateWarmUp()
  t.same(order, ['first', 'second', 'third'])
})

test('unsubscribe', async (t) => {
  const { app, set, read } = await rig(t)
  const a: Status[] = []
  const b: Status[] = []
  const unsubscribeA = app.health.onChange((current) => { a.push(current) })
  app.health.onChange((current) => { b.push(current) })
  t.type(unsubscribeA, 'function')
  set('warn')
  await read()
  unsubscribeA()
  set('fail')
  await read()
  unsubscribeA()
  app.health.setStateShutDown()
  t.same(a, ['warn'], 'no calls after unsubscribing (twice is harmless)')
  t.same(b, ['warn', 'fail'], 'the other listener is still called')

  const again = app.health.onChange((current) => { a.push(current) })
  app.health.setStateWorking()
  set('pass')
  await read()
  again()
  app.health.setStateNoInfo()
  t.same(a, ['warn', 'pass'], 'a listener can subscribe again, and unsubscribe again')
  t.same(b, ['warn', 'fail', 'pass', 'fail'])
})

test('a throwing listener is logged and does not break the others', async (t) => {
  const { app, lines, set, read } = await rig(t)
  const seen: string[] = []
  app.health.onChange(() => { seen.push('before') })
  app.health.onChange(() => { throw new Error('listener bug') })
  app.health.onChange(() => { seen.push('after') })
  set('fail')
  const answer = await read()
  t.equal(answer.statusCode, 503, 'the endpoint still answers')
  t.same(seen, ['before', 'after'])
  const errors = lines.filter((line) => line.msg === 'fastify-health: an onChange listener threw')
  t.equal(errors.length, 1, 'logged once')
  t.equal(errors[0]?.level, 50, 'as an error')
  t.equal(errors[0]?.error, 'Error: listener bug', 'the message only, with no stack')
  set('pass')
  await read()
  t.same(seen, ['before', 'after', 'before', 'after'], 'and again on the next change')
  t.equal(changeLines(lines).length, 2, 'each change logged once')
})

test('an async listener that rejects is logged, and the process lives on', async (t) => {
  const { app, lines, set, read } = await rig(t)
  const seen: string[] = []
  app.health.onChange(async () => { throw new Error('webhook down: https://hooks:s3cret@alerts.example/x') })
  app.health.onChange(() => { seen.push('after') })
  set('fail')
  t.equal((await read()).statusCode, 503)
  t.same(seen, ['after'], 'the next listener heard the change')
  await sleep(0)
  const errors = lines.filter((line) => line.msg === 'fastify-health: an onChange listener threw')
  t.equal(errors.length, 1, 'the rejection is logged once')
  t.equal(errors[0]?.error, 'Error: webhook down: https://***@alerts.example/x', 'its message only, redacted')
})

test('a listener that changes the state: every listener hears both changes, in order', async (t) => {
  const { app, read } = await rig(t)
  // A: out of rotation as soon as anything is wrong. B: believes the latest change it heard.
  app.health.onChange((current) => { if (current === 'warn') app.health.setStateNoInfo() })
  const heard: string[] = []
  app.health.onChange((current, previous) => { heard.push(`${previous}->${current}`) })
  app.health.setStateWarmUp()
  t.same(heard, ['pass->warn', 'warn->fail'], 'the change A made comes after the one A was told of')
  t.equal((await read()).body.status, 'fail', 'and the last change heard is what /health answers')
})

test('a listener cannot move a closing instance back into rotation', async (t) => {
  const { app, read } = await rig(t, { shutdownDelay: 100 })
  // A self-healing listener: whenever the status is not pass, back to Working.
  app.health.onChange((current) => { if (current !== 'pass') app.health.setStateWorking() })
  const drained = app.health.shutdown()
  t.equal(app.health.state, State.SHUTDOWN, 'still shutting down after the listeners were told')
  t.equal((await app.inject('/health/ready')).statusCode, 503, 'readiness fails while draining')
  t.equal((await read()).body.status, 'warn')
  await drained
})

test('onChange refuses what is not a function', async (t) => {
  const { app } = await rig(t)
  for (const bad of [undefined, null, 'fn', {}]) {
    t.throws(() => app.health.onChange(bad as never), { code: 'FST_HEALTH_INVALID_LISTENER', name: 'FastifyError' }, 'a named FST_HEALTH_* error, as every other error of the plugin')
  }
})

test('changes from background checks are announced without any request', async (t) => {
  let status: Status = 'pass'
  const { app, lines } = loggedApp()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    checks: { db: { check: () => ({ status }), interval: 10 } }
  })
  const changes: Array<[Status, Status]> = []
  app.health.onChange((current, previous) => { changes.push([current, previous]) })
  await app.ready()
  status = 'fail'
  const start = performance.now()
  while (changes.length === 0 && performance.now() - start < 5000) await sleep(5)
  t.same(changes, [['fail', 'pass']])
  status = 'pass'
  while (changes.length === 1 && performance.now() - start < 10_000) await sleep(5)
  t.same(changes, [['fail', 'pass'], ['pass', 'fail']])
  t.equal(changeLines(lines).length, 2)
})

test('report() answers what GET /health answers', async (t) => {
  const { app, set } = await rig(t, { statusCodes: { warn: 299 } })
  set('warn')
  await sleep(5)
  const report = await app.health.report()
  const res = await app.inject('/health')
  t.same(schemaErrors(res.json()), [], 'GET /health matches the schema')
  t.same(schemaErrors(report.body), [], 'the report matches the schema')
  t.equal(report.statusCode, 299)
  t.equal(res.statusCode, 299)
  t.same(timeless(res.json() as HealthResponse), timeless(report.body))
  report.body.status = 'fail'
  t.equal((await app.health.report()).body.status, 'warn', 'a copy')
})

// Regression: addCheck() at run time re-evaluates with the new check counted as
// "Not checked yet" (warn), so onChange and the log announce pass -> warn -> pass, although no
// request can ever see that warn (a request waits for a check's first reading).
test('adding a passing check at run time announces no change', async (t) => {
  const { app, lines, read } = await rig(t)
  await read()
  const changes: Array<[Status, Status, string | undefined]> = []
  app.health.onChange((current, previous, report) => { changes.push([current, previous, report.body.output]) })
  app.health.addCheck('cache', () => undefined)
  const answer = await read()
  t.equal(answer.statusCode, 200, 'GET /health never saw a warn')
  t.same(changes, [], 'no change announced')
  t.same(changeLines(lines), [], 'no change logged')
})
