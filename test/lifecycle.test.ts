// What the plugin's own parts (metrics, events) read of a service: the latest status of it and of
// each check without running anything, and a report of every check run.
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { createHealth } from '../lib/controller.js'
import { resolveOptions } from '../lib/options.js'
import { loggedApp } from './helpers.js'

function service (options: Record<string, unknown> = {}): ReturnType<typeof createHealth> & { lines: Array<Record<string, unknown>> } {
  const { app, lines } = loggedApp()
  return { ...createHealth(resolveOptions({ serviceName: 'svc', ...options }), app.log, async () => {}), lines }
}

test('snapshot: the service\'s status and each check\'s, as counted, without running a check', async (t) => {
  const { health, lifecycle } = service()
  let runs = 0
  let db: 'pass' | 'fail' = 'pass'
  health.addCheck('db', () => { runs++; return { status: db } }, { cacheFor: 0 })
  health.addCheck('cache', () => ({ status: 'fail' }), { critical: false })
  health.addCheck('queue', () => ({ status: 'fail' }), { failureThreshold: 3 })
  t.same(lifecycle.snapshot(), { status: 'fail', checks: [] }, 'No information yet, no reading yet: no check listed')
  health.setStateWorking()
  await lifecycle.answer('health')
  t.same(lifecycle.snapshot(), {
    status: 'warn',
    checks: [{ name: 'db', status: 'pass' }, { name: 'cache', status: 'warn' }, { name: 'queue', status: 'warn' }]
  }, 'a non-critical failure and a failure below its threshold count as warn')
  db = 'fail'
  await lifecycle.answer('health')
  t.same(lifecycle.snapshot().status, 'fail', 'a critical failure fails the service')
  const before = runs
  for (let i = 0; i < 3; i++) lifecycle.snapshot()
  t.equal(runs, before, 'reading the snapshot runs nothing, even with cacheFor 0')
  health.removeCheck('db')
  t.same(lifecycle.snapshot().checks.map((check) => check.name), ['cache', 'queue'], 'a removed check is gone')
})

test('onRun: every recorded run, with its own status and duration; a throwing listener is logged', async (t) => {
  const { health, lifecycle, lines } = service()
  const runs: Array<{ name: string, status: string, durationMs: number }> = []
  const stop = lifecycle.onRun((run) => runs.push(run))
  lifecycle.onRun(() => { throw new Error('listener broke') })
  health.addCheck('slow', async () => { await sleep(20) }, { cacheFor: 0 })
  health.addCheck('broken', () => ({ status: 'fail' }), { cacheFor: 0, failureThreshold: 2 })
  health.setStateWorking()
  await lifecycle.answer('health')
  t.same(runs.map(({ name, status }) => ({ name, status })).sort((a, b) => a.name.localeCompare(b.name)),
    [{ name: 'broken', status: 'fail' }, { name: 'slow', status: 'pass' }], 'one run each, with the reading\'s own status (not held back)')
  const slow = runs.find((run) => run.name === 'slow')
  t.ok((slow?.durationMs ?? 0) >= 19, `the slow run took its time (${slow?.durationMs} ms)`)
  t.ok(lines.some((line) => line.level === 50 && line.msg === 'fastify-health: an onRun listener threw'), 'the throwing listener was logged')
  t.notOk(lines.some((line) => JSON.stringify(line).includes('listener broke') && /\bat /.test(String(line.msg))), 'with no stack in the message')
  stop()
  await lifecycle.answer('health')
  t.equal(runs.length, 2, 'no call after unsubscribing')
  t.throws(() => lifecycle.onRun('nope' as never), TypeError, 'a listener must be a function')
})
