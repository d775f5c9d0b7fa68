import { performance } from 'node:perf_hooks'
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import fastifyHealth, { type CheckFunction, type HealthResponse, State, type Status } from '../lib/index.js'
import { gate, getAnswer, loggedApp, schemaErrors, until, workingApp } from './helpers.js'

/** Records unhandled rejections from now on; the function returned asserts there was none. */
function watchRejections (t: Test): () => void {
  const seen: unknown[] = []
  const listener = (reason: unknown): void => { seen.push(reason) }
  process.on('unhandledRejection', listener)
  t.teardown(() => { process.off('unhandledRejection', listener) })
  return () => { t.same(seen, [], 'no unhandled rejection') }
}

const failing: CheckFunction = () => ({ status: 'fail', output: 'refused' })

test('a plain check is taken out of every answer', async (t) => {
  const app = await workingApp(t, { checks: { db: failing, cache: () => undefined } })
  t.equal((await getAnswer(t, app)).statusCode, 503)
  t.equal((await getAnswer(t, app, '/health/ready')).statusCode, 503)
  t.equal(app.health.removeCheck('db'), true, 'true: a check was removed')
  const health = await getAnswer(t, app)
  t.equal(health.statusCode, 200)
  t.same(Object.keys(health.body.checks ?? {}), ['cache'])
  t.notOk('output' in health.body, 'nothing fails any more')
  const ready = await getAnswer(t, app, '/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(Object.keys(ready.body.checks ?? {}), ['cache'])
  t.same((await app.health.report()).body.checks, health.body.checks, 'report() agrees')
})

test('a check whose fresh reading the answers remember is taken out at once', async (t) => {
  let calls = 0
  const app = await workingApp(t, { checks: { db: { check: () => { calls++; return { status: 'warn' } }, cacheFor: 60_000 } } })
  await getAnswer(t, app)
  t.equal((await getAnswer(t, app)).body.status, 'warn', 'served from the cached answer')
  app.health.removeCheck('db')
  const got = await getAnswer(t, app)
  t.equal(got.body.status, 'pass')
  t.notOk(got.body.checks)
  t.equal(calls, 1)
})

test('an interval check stops running', async (t) => {
  let calls = 0
  const app = await workingApp(t, { checks: { db: { check: () => { calls++ }, interval: 10 } } })
  await app.ready()
  await until(t, () => calls >= 3, 'it runs in the background')
  t.equal(app.health.removeCheck('db'), true)
  const atRemoval = calls
  await sleep(100)
  t.equal(calls, atRemoval, 'no run after removal (ten periods later)')
  t.notOk((await getAnswer(t, app)).body.checks)
  t.equal(calls, atRemoval, 'and a request starts none')
})

test('a run in flight', async (t) => {
  t.test('is aborted; whoever waits for it is answered at once; its late result is ignored', async (t) => {
    const noUnhandledRejection = watchRejections(t)
    const release = gate()
    const signals: AbortSignal[] = []
    let arrived = 0
    // The check ignores its signal and settles only when the test says, with a failure.
    const app = await workingApp(t, {
      checks: {
        db: { check: async (signal) => { signals.push(signal); await release.promise; return { status: 'fail' } }, timeout: 60_000 },
        cache: () => undefined
      }
    })
    app.addHook('preHandler', async () => { arrived++ })
    await app.ready()
    const changes: Status[] = []
    app.health.onChange((current) => { changes.push(current) })
    const waiting = getAnswer(t, app)
    await until(t, () => arrived === 1 && signals.length === 1, 'the request waits for the run')
    await tick()
    t.equal(app.health.removeCheck('db'), true)
    t.ok(signals[0]?.aborted, 'the signal is aborted')
    t.match(signals[0]?.reason, { message: 'The check was removed' })
    const got = await waiting
    t.equal(got.statusCode, 200, 'answered before the check settled')
    t.same(Object.keys(got.body.checks ?? {}), ['cache'])
    release.open()
    await sleep(5)
    const after = await getAnswer(t, app)
    t.equal(after.body.status, 'pass', 'the late failure changed nothing')
    t.same(Object.keys(after.body.checks ?? {}), ['cache'])
    t.same(changes, [], 'and was not announced')
    noUnhandledRejection()
  })

  t.test('a check that honours its signal rejects: no unhandled rejection', async (t) => {
    const noUnhandledRejection = watchRejections(t)
    const signals: AbortSignal[] = []
    const app = await workingApp(t, {
      checks: {
        db: {
          interval: 60_000,
          timeout: 60_000,
          check: (signal) => {
            signals.push(signal)
            return new Promise((resolve, reject) => { signal.addEventListener('abort', () => reject(signal.reason)) })
          }
        }
      }
    })
    await app.ready()
    t.equal(signals.length, 1, 'the background run is in flight')
    app.health.removeCheck('db')
    t.ok(signals[0]?.aborted)
    await sleep(5)
    t.notOk((await getAnswer(t, app)).body.checks)
    t.equal(signals.length, 1, 'not run again')
    noUnhandledRejection()
  })
})

test('the change is announced like any other', async (t) => {
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    checks: { db: failing, cache: { check: () => ({ status: 'warn' }), critical: false } }
  })
  const changes: Array<[Status, Status, HealthResponse]> = []
  app.health.onChange((current, previous, report) => { changes.push([current, previous, report.body]) })
  t.equal((await getAnswer(t, app)).body.status, 'fail')
  t.same(changes.map(([c, p]) => [c, p]), [['fail', 'pass']], 'the first readings: pass to fail')

  app.health.removeCheck('db')
  t.same(changes.map(([c, p]) => [c, p]), [['fail', 'pass'], ['warn', 'fail']], 'removing the failing check: fail to warn')
  const [, , report] = changes[1] ?? []
  t.same(schemaErrors(report), [], 'the report matches the schema')
  t.equal(report?.output, 'cache: warn')
  t.same(Object.keys(report?.checks ?? {}), ['cache'])
  const logged = lines.filter((line) => line.msg === 'fastify-health: status changed')
  t.match(logged.at(-1), { from: 'fail', to: 'warn', output: 'cache: warn' }, 'logged with what caused it')

  app.health.removeCheck('cache')
  t.same(changes.map(([c, p]) => [c, p]).at(-1), ['pass', 'warn'], 'removing the last one: warn to pass')
  t.equal((await getAnswer(t, app)).statusCode, 200)
})

test('removing a check that does not change the status announces nothing', async (t) => {
  const app = await workingApp(t, { checks: { db: () => undefined, cache: () => undefined } })
  await getAnswer(t, app)
  const changes: Status[] = []
  app.health.onChange((current) => { changes.push(current) })
  app.health.removeCheck('db')
  t.same(changes, [])
  t.same(Object.keys((await getAnswer(t, app)).body.checks ?? {}), ['cache'])
})

test('an unknown name: false, and nothing changes', async (t) => {
  const app = await workingApp(t, { checks: { db: failing } })
  await getAnswer(t, app)
  const changes: Status[] = []
  app.health.onChange((current) => { changes.push(current) })
  t.equal(app.health.removeCheck('redis'), false)
  t.equal(app.health.removeCheck(''), false)
  t.equal(app.health.removeCheck(42 as never), false, 'not even a name: false')
  t.equal(app.health.removeCheck('db'), true)
  t.equal(app.health.removeCheck('db'), false, 'a second time: false')
  t.same(changes, ['pass'])
})

test('the name may be added again', async (t) => {
  t.test('a new check under the old name starts afresh: no reading, no run of failures', async (t) => {
    const check: CheckFunction = () => ({ status: 'fail' })
    const app = await workingApp(t, { checks: { db: { check, cacheFor: 0, failureThreshold: 2 } } })
    await getAnswer(t, app)
    t.equal((await getAnswer(t, app)).body.status, 'fail', 'two failing readings: counted')
    t.throws(() => app.health.addCheck('db', check), { code: 'FST_HEALTH_DUPLICATE_CHECK' }, 'while registered, the name is taken')
    app.health.removeCheck('db')
    app.health.addCheck('db', check, { cacheFor: 0, failureThreshold: 2 })
    const again = await getAnswer(t, app)
    t.equal(again.body.status, 'warn')
    t.equal(again.body.output, 'db: fail (1 of 2 failing readings before it counts)')
  })

  t.test('while the old run is still in flight: the new check answers, the old result is ignored', async (t) => {
    const noUnhandledRejection = watchRejections(t)
    const release = gate()
    let started = false
    const app = await workingApp(t, {
      checks: { db: { check: async () => { started = true; await release.promise; return { observedValue: 'old' } }, timeout: 60_000 } }
    })
    const waiting = app.inject('/health')
    await until(t, () => started, 'the old run is in flight')
    app.health.removeCheck('db')
    app.health.addCheck('db', () => ({ observedValue: 'new' }), { cacheFor: 0 })
    const first = await waiting
    t.same(schemaErrors(first.json()), [], 'the waiting request got a valid answer')
    t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.observedValue, 'new')
    release.open()
    await sleep(5)
    t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.observedValue, 'new', 'still the new check\'s reading')
    noUnhandledRejection()
  })

  t.test('an interval check added again runs on its own loop, once', async (t) => {
    const calls = { old: 0, new: 0 }
    const app = await workingApp(t, { checks: { db: { check: () => { calls.old++ }, interval: 20 } } })
    await app.ready()
    app.health.removeCheck('db')
    app.health.addCheck('db', () => { calls.new++ }, { interval: 20 })
    const start = performance.now()
    await until(t, () => calls.new >= 5, 'the new one runs on its period')
    const elapsed = performance.now() - start
    t.equal(calls.old, 1, 'the old one ran only before it was removed')
    // One loop: at most elapsed / 20 + 1 runs (plus one for the event loop's clock).
    t.ok(calls.new <= Math.floor(elapsed / 20) + 2, `one loop, not two (${calls.new} runs in ${Math.round(elapsed)} ms)`)
  })
})

test('removal before the instance is ready, and bound like every method', async (t) => {
  let calls = 0
  const app = await workingApp(t, { checks: { db: { check: () => { calls++ }, interval: 10 } } })
  const { removeCheck } = app.health
  t.equal(removeCheck('db'), true, 'removed before any run')
  await app.ready()
  await sleep(30)
  t.equal(calls, 0, 'its loop never started')
  const got = await getAnswer(t, app)
  t.notOk(got.body.checks)
  t.equal(got.statusCode, 200)
})

test('the answers list the checks in the order they were added, after every addition and removal', async (t) => {
  const app = await workingApp(t, { checks: { a: () => undefined, b: () => undefined, c: () => undefined } })
  const names = async (path = '/health'): Promise<string[]> => Object.keys((await getAnswer(t, app, path)).body.checks ?? {})
  t.same(await names(), ['a', 'b', 'c'])
  app.health.removeCheck('b')
  app.health.addCheck('d', () => undefined)
  t.same(await names(), ['a', 'c', 'd'], 'a removal and an addition between two answers')
  app.health.addCheck('b', () => undefined)
  t.same(await names(), ['a', 'c', 'd', 'b'], 'added again: last')
  t.same(await names('/health/ready'), ['a', 'c', 'd', 'b'], 'and so in every view')
  app.health.removeCheck('a')
  t.same(await names(), ['c', 'd', 'b'], 'the first one removed')
  t.same(await names(), ['c', 'd', 'b'], 'and the next answer the same')
})
