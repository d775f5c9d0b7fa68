// A request's cost does not grow with the number of checks: it looks only at the checks due for
// a look (lib/engine/due-queue.ts), reads each view's status from a tally kept as readings
// arrive, and builds the details only when they are shown. These tests count what a request
// visits and check that the shortcuts answer exactly what the full computation would.
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { test } from 'tap'
import { DueQueue } from '../lib/engine/due-queue.js'
import { CheckRunner } from '../lib/engine/runner.js'
import type { HealthResponse } from '../lib/index.js'
import { gate, getAnswer, schemaErrors, validatedApp } from './helpers.js'

/** Counts the calls of CheckRunner.refresh (the look a request takes at a check) while `during` runs. */
async function looks<T> (during: () => Promise<T>): Promise<{ looked: number, result: T }> {
  const refresh = Object.getOwnPropertyDescriptor(CheckRunner.prototype, 'refresh') as PropertyDescriptor
  let looked = 0
  Object.defineProperty(CheckRunner.prototype, 'refresh', {
    ...refresh,
    value: function (this: CheckRunner, now: number) {
      looked++
      return (refresh.value as CheckRunner['refresh']).call(this, now)
    }
  })
  try {
    const result = await during()
    return { looked, result }
  } finally {
    Object.defineProperty(CheckRunner.prototype, 'refresh', refresh)
  }
}

test('DueQueue takes out exactly the live entries that are due, earliest first', async (t) => {
  type Step = { op: 'schedule', item: number, at: number } | { op: 'forget', item: number } | { op: 'take', now: number }
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ op: fc.constant('schedule' as const), item: fc.integer({ min: 0, max: 9 }), at: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.constantFrom(-Infinity, Infinity)) }),
    fc.record({ op: fc.constant('forget' as const), item: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('take' as const), now: fc.integer({ min: -5, max: 60 }) })
  )
  let checked = 0
  fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
    const queue = new DueQueue<number>()
    // The model: each item's live time, if any.
    const model = new Map<number, number>()
    for (const s of steps) {
      if (s.op === 'schedule') {
        queue.schedule(s.item, s.at)
        if (s.at === Infinity) model.delete(s.item)
        else model.set(s.item, s.at)
      } else if (s.op === 'forget') {
        queue.forget(s.item)
        model.delete(s.item)
      } else {
        const earliest = Math.min(...model.values())
        if (queue.nextAt() !== earliest) return false
        const taken = queue.takeDue(s.now)
        if (earliest > s.now) {
          if (taken !== undefined) return false
        } else {
          if (taken === undefined || model.get(taken) !== earliest) return false
          model.delete(taken)
        }
      }
      checked++
    }
    return true
  }), { numRuns: 300 })
  t.ok(checked > 0, `${checked} steps checked against the model`)
})

test('a request looks at no check while every reading is fresh, however many there are', async (t) => {
  for (const count of [10, 1000]) {
    const app = await validatedApp(t)
    for (let i = 0; i < count; i++) app.health.addCheck(`dep${i}:responseTime`, () => ({ observedValue: i }), { cacheFor: 60_000 })
    const first = await looks(() => app.inject('/health'))
    t.equal(first.looked, count, `${count} checks: the first request looks at each, to run it`)
    const later = await looks(async () => { for (let i = 0; i < 50; i++) await app.inject('/health') })
    t.equal(later.looked, 0, `${count} checks: 50 requests later, none is looked at`)
    const got = await getAnswer(t, app)
    t.equal(Object.keys(got.body.checks ?? {}).length, count, 'and every check is in the answer')
  }
})

test('only the checks that went stale are looked at, and run', async (t) => {
  const runs = { short: 0, long: 0 }
  const app = await validatedApp(t)
  for (let i = 0; i < 500; i++) app.health.addCheck(`long${i}:x`, () => { runs.long++ }, { cacheFor: 60_000 })
  app.health.addCheck('short:x', () => { runs.short++ }, { cacheFor: 30 })
  await app.inject('/health')
  t.same(runs, { short: 1, long: 500 }, 'the first request ran them all')
  await sleep(40)
  const stale = await looks(() => app.inject('/health'))
  t.equal(stale.looked, 1, 'past the short one\'s cacheFor, one check is looked at')
  await getAnswer(t, app) // the short one's run settles before this answer, or with it
  t.equal(runs.long, 500, 'the others did not run again')
  t.ok(runs.short >= 2, `the stale one ran again (${runs.short} runs)`)
})

test('a run that outlives its timeout: not started again while it runs, started by the first request after it ends', async (t) => {
  const release = gate()
  let calls = 0
  const app = await validatedApp(t, {
    checks: {
      slow: {
        cacheFor: 20,
        timeout: 20,
        check: async () => { if (++calls === 1) await release.promise }
      }
    }
  })
  const timedOut = await getAnswer(t, app)
  t.equal(timedOut.body.checks?.slow?.[0]?.output, 'Timed out after 20 ms', 'the first run timed out')
  await sleep(30)
  const during = await looks(() => app.inject('/health'))
  t.equal(during.looked, 0, 'while it still runs, a stale request does not look at it')
  t.equal(calls, 1, 'and does not start another run')
  const one = await app.inject('/health/checks/slow')
  t.equal(one.json<HealthResponse>().checks?.slow?.[0]?.output, 'Timed out after 20 ms', 'the check\'s own route serves the timed-out reading')
  t.equal(calls, 1, 'without starting another run either')
  release.open()
  await sleep(30)
  await getAnswer(t, app)
  await sleep(5)
  const after = await getAnswer(t, app)
  t.equal(calls >= 2, true, `once it ended, a request started a new run (${calls} calls)`)
  t.equal(after.body.checks?.slow?.[0]?.status, 'pass', 'whose reading is served')
})

test('hidden details: the counts come from the tallies and match the details, for any mix of outcomes', async (t) => {
  const outcome = fc.record({
    status: fc.constantFrom('pass', 'warn', 'fail'),
    critical: fc.boolean(),
    failureThreshold: fc.integer({ min: 1, max: 3 })
  })
  const details = await fc.check(fc.asyncProperty(fc.array(outcome, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 3 }), async (checks, readings) => {
    const app = await validatedApp(t, { exposeDetails: (request) => request.headers['x-details'] === '1' })
    const statuses = checks.map((c) => c.status)
    checks.forEach((c, i) => app.health.addCheck(`dep${i}:x`, () => ({ status: statuses[i] }), { cacheFor: 0, critical: c.critical, failureThreshold: c.failureThreshold }))
    // A few readings, the last one flipping a check, so that thresholds and recounts both matter.
    for (let n = 0; n < readings; n++) await app.inject('/health')
    statuses[0] = statuses[0] === 'pass' ? 'fail' : 'pass'
    // Together: cacheFor 0 runs the check for every request, but concurrent ones share one run.
    const [shown, hidden] = await Promise.all([app.inject({ url: '/health', headers: { 'x-details': '1' } }), app.inject('/health')])
    const full = shown.json<HealthResponse>()
    const brief = hidden.json<HealthResponse>()
    // The details' output names each check that does not count as pass: `name: own (notes)`.
    // Counted here: a failing reading held back by its threshold, or not critical, counts as warn.
    const parts = full.status === 'pass' ? [] : (full.output ?? '').split('; ').filter((part) => part.startsWith('dep'))
    let failing = 0
    let warning = 0
    for (const part of parts) {
      const critical = checks[Number(part.slice(3, part.indexOf(':')))]?.critical === true
      const fails = / fail(?: \(|$)/.test(part) && critical && !part.includes('failing readings before it counts')
      if (fails) failing++
      else warning++
    }
    const expected = [failing > 0 ? `${failing} ${failing === 1 ? 'check' : 'checks'} failing` : undefined,
      warning > 0 ? `${warning} ${warning === 1 ? 'check' : 'checks'} warning` : undefined].filter(Boolean).join('; ')
    await app.close()
    return schemaErrors(brief).length === 0 && schemaErrors(full).length === 0 &&
      brief.status === full.status && hidden.statusCode === shown.statusCode &&
      (brief.output ?? '') === expected && brief.checks === undefined
  }), { numRuns: 60 })
  t.notOk(details.failed, fc.defaultReportMessage(details) ?? 'the brief answer agrees with the details')
  t.equal(details.numRuns, 60, '60 random mixes checked')
})

test('1,000 checks settling one after another: every answer is right when it is served', async (t) => {
  const app = await validatedApp(t)
  const count = 1000
  for (let i = 0; i < count; i++) {
    // Spread over ~20 ms, so that requests land between readings.
    app.health.addCheck(`dep${i}:x`, async () => { await sleep(i % 20); return { status: i % 250 === 0 ? 'warn' : 'pass' } }, { cacheFor: 60_000 })
  }
  const first = await getAnswer(t, app)
  t.equal(Object.keys(first.body.checks ?? {}).length, count, 'the first answer waited for every first reading')
  t.equal(first.body.status, 'warn', 'four checks warn')
  t.match(first.body.output, /^dep0:x: warn; dep250:x: warn; dep500:x: warn; dep750:x: warn$/, 'and are named, in registration order')
})
