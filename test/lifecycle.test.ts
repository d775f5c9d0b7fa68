// The lifecycle's two members for metrics and events: snapshot() (the latest counted statuses,
// running nothing) and onRun() (every settled run: name, the reading's own status, duration).
import { setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import { type CheckRun, createHealth, type HealthController, type HealthLifecycle } from '../lib/controller.js'
import { resolveOptions } from '../lib/options.js'
import { State, type Status } from '../lib/states.js'
import { loggedApp } from './helpers.js'

interface Rig {
  health: HealthController
  lifecycle: HealthLifecycle
  lines: Array<Record<string, unknown>>
  /** What check `db` returns next. */
  set: (status: Status) => void
}

/** A controller in state Working with a check `db` whose status the test sets, as the plugin makes it. */
function rig (t: Test, db: Record<string, unknown> = {}): Rig {
  const { app, lines } = loggedApp(t)
  let status: Status = 'pass'
  const { health, lifecycle } = createHealth(resolveOptions({ serviceName: 'orders', initialState: State.WORK }), app.log, async () => {})
  lifecycle.checks.add('db', () => ({ status }), { cacheFor: 0, ...db })
  t.teardown(() => lifecycle.stop())
  return { health, lifecycle, lines, set: (next) => { status = next } }
}

test('snapshot: the overall status and each check with a reading, counted as /health counts it', async (t) => {
  const { health, lifecycle, set } = rig(t, { failureThreshold: 2 })
  lifecycle.checks.add('cache', () => ({ status: 'fail' }), { critical: false, cacheFor: 0 })
  t.strictSame(lifecycle.snapshot(), { status: 'pass', checks: [] }, 'no reading yet: no check, and nothing ran')
  await lifecycle.answer('health', true)
  t.strictSame(lifecycle.snapshot(), {
    status: 'warn', checks: [{ name: 'db', status: 'pass' }, { name: 'cache', status: 'warn' }]
  }, 'a failing non-critical check counts as warn')
  set('fail')
  await lifecycle.answer('health', true)
  t.strictSame(lifecycle.snapshot().checks[0], { name: 'db', status: 'warn' }, 'one failing reading of 2: counted as warn')
  await lifecycle.answer('health', true)
  t.strictSame(lifecycle.snapshot(), {
    status: 'fail', checks: [{ name: 'db', status: 'fail' }, { name: 'cache', status: 'warn' }]
  }, 'the second: fail')
  health.setStateWarmUp()
  t.equal(lifecycle.snapshot().status, 'fail', 'the state counts too')
  health.removeCheck('db')
  t.strictSame(lifecycle.snapshot(), { status: 'warn', checks: [{ name: 'cache', status: 'warn' }] }, 'a removed check is gone')
  health.setStateNoInfo()
  t.equal(lifecycle.snapshot().status, 'fail')
})

test('onRun: every settled run with its own status and duration; a removed run is not one', async (t) => {
  const { health, lifecycle, set } = rig(t, { failureThreshold: 3 })
  const runs: CheckRun[] = []
  const unsubscribe = lifecycle.onRun((run) => { runs.push(run) })
  await lifecycle.answer('health', true)
  set('fail')
  await lifecycle.answer('health', true)
  t.strictSame(runs.map(({ name, status }) => [name, status]), [['db', 'pass'], ['db', 'fail']],
    'the reading\'s own status, before the threshold (it counts as warn)')
  t.equal(lifecycle.snapshot().checks[0]?.status, 'warn', 'recorded before the listener is called')
  for (const run of runs) t.ok(run.durationMs >= 0 && run.durationMs < 1000, `a duration in ms (${run.durationMs})`)

  health.addCheck('slow', () => sleep(60).then(() => ({})), { timeout: 20 })
  await lifecycle.answer('health', true)
  t.match(runs.at(-1), { name: 'slow', status: 'fail', durationMs: 20 }, 'a run that timed out took its timeout')

  let release = (): void => {}
  health.addCheck('hung', (signal) => new Promise((resolve) => { release = () => resolve({}); signal.addEventListener('abort', release) }))
  const waiting = lifecycle.answer('health', true)
  await sleep(5)
  health.removeCheck('hung')
  await waiting
  t.notOk(runs.some((run) => run.name === 'hung'), 'a run cut by removal settles with no reading: no run')

  const told = runs.length
  unsubscribe()
  unsubscribe()
  await lifecycle.answer('health', true)
  t.equal(runs.length, told, 'no call after unsubscribing (twice is harmless)')
})

test('onRun: a throwing listener is logged at error level and breaks nothing', async (t) => {
  const { lifecycle, lines } = rig(t)
  const seen: string[] = []
  lifecycle.onRun(() => { seen.push('before') })
  lifecycle.onRun(() => { throw new Error('listener bug') })
  lifecycle.onRun(() => { seen.push('after') })
  const answer = await lifecycle.answer('health', true)
  t.equal(answer.statusCode, 200, 'the answer is still served')
  t.same(seen, ['before', 'after'], 'the other listeners are called')
  const errors = lines.filter((line) => line.msg === 'fastify-health: an onRun listener threw')
  t.equal(errors.length, 1, 'logged once')
  t.equal(errors[0]?.level, 50, 'as an error')
  t.equal(errors[0]?.error, 'Error: listener bug', 'the message only, with no stack')
  t.notMatch(String(errors[0]?.msg), /\bat /, 'no stack in the message')
  await lifecycle.answer('health', true)
  t.same(seen, ['before', 'after', 'before', 'after'], 'and the next run is told again')
})

test('onRun: how the check counts after the run and before it, so that a change costs no look at the others', async (t) => {
  const { lifecycle, set } = rig(t, { failureThreshold: 2 })
  const runs: CheckRun[] = []
  lifecycle.onRun((run) => { runs.push(run) })
  await lifecycle.answer('health', true)
  set('fail')
  await lifecycle.answer('health', true)
  await lifecycle.answer('health', true)
  set('pass')
  await lifecycle.answer('health', true)
  t.strictSame(runs.map(({ status, counted, previous }) => [status, counted, previous]), [
    ['pass', 'pass', undefined],
    ['fail', 'warn', 'pass'],
    ['fail', 'fail', 'warn'],
    ['pass', 'pass', 'fail']
  ], 'first reading, held back by the threshold, counted, recovered')
  t.throws(() => lifecycle.onRun('nope' as never), { code: 'FST_HEALTH_INVALID_LISTENER' }, 'a listener must be a function')
})

test('once stopped, for good: no run starts, a second stop or start changes nothing, a check added later never runs', async (t) => {
  const { app } = loggedApp(t)
  let runs = 0
  const options = resolveOptions({ serviceName: 'orders', initialState: State.WORK, exposeDetails: true })
  const { health, lifecycle } = createHealth(options, app.log, async () => {})
  health.addCheck('db', () => { runs++ }, { cacheFor: 0 })
  health.addCheck('loop', () => {}, { interval: 10 })
  lifecycle.start()
  lifecycle.start()
  await lifecycle.answer('health', true)
  const before = runs
  await lifecycle.stop()
  await lifecycle.stop()
  lifecycle.start()
  health.addCheck('late', () => { runs++ }, { cacheFor: 0 })
  const after = await lifecycle.answer('health', true)
  t.equal(runs, before, 'a due check is not run after stop, nor one added after it')
  t.same(Object.keys(JSON.parse(after.payload).checks), ['db', 'loop'], 'the last readings are served; the late check has none')
})

test('a failed reading keeps each node of the previous one once', async (t) => {
  const { app } = loggedApp(t)
  let fail = false
  const { health, lifecycle } = createHealth(resolveOptions({ serviceName: 'orders', initialState: State.WORK }), app.log, async () => {})
  t.teardown(() => lifecycle.stop())
  health.addCheck('db', () => {
    if (fail) throw new Error('down')
    return [{ componentType: 'datastore', observedValue: 1 }, { componentType: 'datastore', observedValue: 2 }, { componentId: 'a' }]
  }, { cacheFor: 0 })
  await lifecycle.answer('health', true)
  fail = true
  const { payload } = await lifecycle.answer('health', true)
  t.same(JSON.parse(payload).checks.db.map(({ componentId, componentType, status }: Record<string, string>) => [componentId, componentType, status]),
    [[undefined, 'datastore', 'fail'], ['a', undefined, 'fail']], 'the same kind twice is one failed node')
})
