import { createHook } from 'node:async_hooks'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'tap'
import { cancel, schedule } from '../lib/engine/batches.js'
import { MAX_TIMER_MS } from '../lib/rules.js'
import { until, validatedApp } from './helpers.js'

// The background runs' shared timers (lib/engine/batches.ts): a run never starts before its
// delay, at most 2% (and 1 ms) after it, and the runs due within that window share one timer.
// Real timers; timers never fire early, so lower bounds on a delay hold on any machine (less the
// 1 ms that the timers' whole milliseconds may round off). Where callbacks must share a batch, the
// delay is long enough that its window (2% of it) outlasts a test process losing its CPU for a
// while between two calls: 1 s or more, a window of 20 ms or more. And where they must share it,
// they are scheduled with the clock held still (atOnce): beside other test files on two CPUs, a
// process lost its CPU for longer than 40 ms between two lines.

/** Calls `calls` with performance.now() held at the time of the call: as if they all ran at once. */
function atOnce<T> (calls: () => T): T {
  const now = performance.now()
  performance.now = () => now
  try {
    return calls()
  } finally {
    // The instance's own property goes; the prototype's method is seen again.
    delete (performance as { now?: unknown }).now
  }
}

test('callbacks due together share one timer, and none runs early', async (t) => {
  const started = performance.now()
  const ran: number[] = []
  const batches = atOnce(() => new Set(Array.from({ length: 50 }, (_, i) => schedule(1000, () => { ran.push(i) }))))
  t.equal(batches.size, 1, 'fifty callbacks of the same delay, scheduled together: one batch')
  const [batch] = batches
  t.equal(batch.waiting, 50)
  await until(t, () => ran.length === 50, 'every callback ran')
  t.ok(performance.now() - started >= 999, 'not before the delay')
  t.same(ran, Array.from({ length: 50 }, (_, i) => i), 'each once, in the order they joined')
  t.equal(batch.timer, undefined, 'the timer is spent')
  t.equal(batch.waiting, 0, 'and the batch holds nothing')
  t.ok(batch.callbacks.every((callback) => callback === undefined), 'not even a spent callback')
})

test('a callback due past the window gets a timer of its own', async (t) => {
  const ran: string[] = []
  // 2 s: a window of 40 ms.
  const first = schedule(2000, () => { ran.push('first') })
  await sleep(60)
  const [second, third] = atOnce(() => [schedule(2000, () => { ran.push('second') }), schedule(2000, () => { ran.push('third') })])
  t.ok(second !== first, '60 ms later, past 2% of 2 s: another batch')
  t.ok(third === second, 'which takes the callbacks due within its window')
  await until(t, () => ran.length === 3, 'all three ran')
  t.same(ran, ['first', 'second', 'third'], 'the older batch first')
})

test('cancel', async (t) => {
  t.test('takes one callback out; the others still run', async (t) => {
    const ran: string[] = []
    const kept = (): void => { ran.push('kept') }
    const dropped = (): void => { ran.push('dropped') }
    const [batch, joined] = atOnce(() => [schedule(1000, kept), schedule(1000, dropped)])
    t.equal(joined, batch)
    cancel(batch, dropped)
    cancel(batch, dropped)
    t.equal(batch.waiting, 1, 'cancelling twice takes out nothing more')
    await until(t, () => ran.length > 0, 'the batch ran')
    await sleep(30)
    t.same(ran, ['kept'])
  })

  t.test('a batch left with nothing clears its timer, and a new batch opens', async (t) => {
    const ran: string[] = []
    const only = (): void => { ran.push('only') }
    const batch = schedule(20, only)
    cancel(batch, only)
    t.equal(batch.timer, undefined, 'no timer left')
    const next = schedule(20, () => { ran.push('next') })
    t.ok(next !== batch, 'the emptied batch takes no more callbacks')
    await until(t, () => ran.length > 0, 'the new batch ran')
    await sleep(40)
    t.same(ran, ['next'], 'the cancelled callback never ran')
  })

  t.test('emptying an older batch leaves the newer one open', async (t) => {
    const ran: string[] = []
    const dropped = (): void => { ran.push('dropped') }
    const older = schedule(2000, dropped)
    await sleep(60)
    const [newer, joined] = atOnce(() => {
      const newer = schedule(2000, () => { ran.push('newer') })
      cancel(older, dropped)
      return [newer, schedule(2000, () => { ran.push('joined') })]
    })
    t.equal(older.timer, undefined, 'the older batch has no timer left')
    t.ok(joined === newer, 'the newer batch still takes callbacks')
    await until(t, () => ran.length === 2, 'the newer batch ran')
    t.same(ran, ['newer', 'joined'])
  })

  t.test('a callback that cancels a later one of its batch stops it in time', async (t) => {
    const ran: string[] = []
    const later = (): void => { ran.push('later') }
    const [batch, joined] = atOnce(() => {
      const batch = schedule(1000, () => {
        ran.push('first')
        cancel(batch, later)
      })
      return [batch, schedule(1000, later)]
    })
    t.equal(joined, batch, 'both in one batch')
    await until(t, () => ran.length > 0, 'the batch ran')
    await sleep(30)
    t.same(ran, ['first'])
  })

  t.test('before anything was scheduled: nothing to do', async (t) => {
    t.doesNotThrow(() => cancel(undefined, () => {}))
  })
})

test('a long delay starts at most 1 s late', async (t) => {
  const callback = (): void => {}
  const started = performance.now()
  const batch = schedule(3_600_000, callback)
  t.ok(batch.due - started <= 3_601_001, `due ${Math.round(batch.due - started - 3_600_000)} ms after the hour`)
  t.ok(batch.due - started >= 3_600_000, 'and not before it')
  cancel(batch, callback)
})

test('the longest delay a timer takes is never overrun (it would fire at once)', async (t) => {
  const warnings: string[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning.name) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  let ran = false
  const callback = (): void => { ran = true }
  const batch = schedule(MAX_TIMER_MS, callback)
  t.ok(batch.due - performance.now() <= MAX_TIMER_MS, 'set for at most the longest delay')
  await sleep(20)
  cancel(batch, callback)
  t.notOk(ran, 'it did not fire')
  t.same(warnings, [], 'no TimeoutOverflowWarning')
})

test('interval checks: far fewer timers than readings, and each run at least `interval` after the last', async (t) => {
  let timers = 0
  const hook = createHook({ init: (_id, type) => { if (type === 'Timeout') timers++ } })
  const runs: number[][] = Array.from({ length: 50 }, () => [])
  const checks = Object.fromEntries(runs.map((times, i) => [`dep${i}`, {
    check: () => { times.push(performance.now()) },
    // A window of 10 ms: at 20 ms (a window of 1 ms) the runs of one batch, spread over more
    // than that on a loaded machine, set timers of their own.
    interval: 500
  }]))
  const app = await validatedApp(t, { checks })
  await app.ready()
  hook.enable()
  t.teardown(() => { hook.disable() })
  const from = runs.map((times) => times.length)
  // One timer of the test's own while the runs go on: every other Timeout made is the plugin's.
  await sleep(1600)
  hook.disable()
  const readings = runs.reduce((sum, times, i) => sum + times.length - from[i], 0)
  t.ok(readings >= 50 && timers * 10 <= readings, `${timers} timers made for ${readings} readings: at most one per ten`)
  await until(t, () => runs.every((times) => times.length >= 3), 'each check ran three times')
  const gaps = runs.flatMap((times) => times.slice(1).map((time, i) => time - times[i]))
  t.ok(Math.min(...gaps) >= 499, `the shortest gap between two runs of a check: ${Math.min(...gaps).toFixed(1)} ms (interval 500)`)
  await app.close()
})
