import { performance } from 'node:perf_hooks'
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { abortTies } from '../lib/engine/abort-listeners.js'
import type { CheckFunction, HealthResponse } from '../lib/index.js'
import { gate, getAnswer, schemaErrors, until, validatedApp } from './helpers.js'

// Short real timers only. Counts are asserted with bounds that a slow machine cannot break:
// timers never fire early, so a loop of period P cannot run more than elapsed / P + 1 times,
// and lower bounds are reached by polling (with a generous limit), never by a fixed sleep.

/** Asserts that every answer is a valid health document (one assertion for many answers). */
function allValid (t: Test, answers: Array<{ body: string }>, label: string): void {
  t.same(answers.flatMap((res) => schemaErrors(JSON.parse(res.body))), [], `${label}: every body matches the schema`)
}

/** Like until(), but sends a request to /health (one at a time) before each look. */
async function requestUntil (t: Test, app: FastifyInstance, condition: () => boolean, what: string, limit = 10_000): Promise<void> {
  const start = performance.now()
  let held = condition()
  while (!held && performance.now() - start <= limit) {
    await app.inject('/health')
    await sleep(5)
    held = condition()
  }
  t.ok(held, what)
}

/** Ref'd timers only: what keeps a process alive. */
const refTimers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length

test('single flight', async (t) => {
  t.test('1000 concurrent requests share one run', async (t) => {
    let calls = 0
    let arrived = 0
    const release = gate()
    const check: CheckFunction = async () => {
      calls++
      await release.promise
      return { observedValue: calls }
    }
    // cacheFor 0: only single flight can keep the requests to one run.
    const app = await validatedApp(t, { checks: { db: { check, cacheFor: 0, timeout: 60_000 } } })
    app.addHook('preHandler', async () => { arrived++ })
    await app.ready()
    const requests = Array.from({ length: 1000 }, () => app.inject('/health'))
    await until(t, () => arrived === 1000, 'every request reached the handler', 30_000)
    await tick()
    t.equal(calls, 1, 'one run for all of them, while it is in flight')
    release.open()
    const answers = await Promise.all(requests)
    t.equal(calls, 1, 'still one run')
    const bodies = new Set(answers.map((res) => res.body))
    t.equal(bodies.size, 1, 'every request got the same answer')
    allValid(t, answers, '1000 answers')
    const body = answers[0]?.json() as HealthResponse
    t.ok(answers.every((res) => res.statusCode === 200))
    t.equal(body.checks?.db?.[0]?.observedValue, 1)
  })

  t.test('never more than one run in flight, whatever the request pattern', async (t) => {
    let inFlight = 0
    let most = 0
    let calls = 0
    let arrived = 0
    let hold: Promise<void> | undefined
    const check: CheckFunction = async () => {
      calls++
      inFlight++
      most = Math.max(most, inFlight)
      if (hold !== undefined) await hold
      await sleep(calls % 3)
      inFlight--
      return { status: calls % 2 === 0 ? 'pass' : 'warn' }
    }
    const app = await validatedApp(t, { checks: { db: { check, cacheFor: 0, timeout: 60_000 } } })
    app.addHook('preHandler', async () => { arrived++ })
    await app.ready()
    // A first burst whose run is held until every request of it is in: they all share that run.
    const release = gate()
    hold = release.promise
    const held = Array.from({ length: 25 }, () => app.inject('/health'))
    await until(t, () => arrived === 25, 'the held burst reached the handler', 30_000)
    await tick()
    t.equal(calls, 1, 'runs are shared: one run for the 25 requests in flight')
    hold = undefined
    release.open()
    const heldAnswers = await Promise.all(held)
    t.equal(calls, 1, 'and all 25 were answered from it')
    t.ok(heldAnswers.every((res) => res.statusCode === 202), 'held burst: answered with its reading (warn)')
    allValid(t, heldAnswers, 'held burst')
    // Then bursts at varied times against runs of varied length.
    for (let round = 0; round < 20; round++) {
      const burst = await Promise.all(Array.from({ length: 25 }, () => app.inject('/health')))
      t.ok(burst.every((res) => res.statusCode === 200 || res.statusCode === 202), `round ${round}: answered`)
      allValid(t, burst, `round ${round}`)
      await sleep(round % 3)
    }
    t.equal(most, 1, 'at most one run at a time')
    // cacheFor 0 and each burst after the last answer: every burst needs a run of its own, so the
    // one-at-a-time claim above was put to the test on 21 runs at least.
    t.ok(calls >= 21, `cacheFor 0: every burst ran the check anew (${calls} runs)`)
  })

  t.test('probes share the run of /health', async (t) => {
    let calls = 0
    let arrived = 0
    const release = gate()
    const app = await validatedApp(t, {
      checks: { db: { check: async () => { calls++; await release.promise }, probes: ['live', 'ready'], cacheFor: 0, timeout: 60_000 } }
    })
    app.addHook('preHandler', async () => { arrived++ })
    await app.ready()
    const requests = ['/health', '/health/ready', '/health/live', '/health'].map((url) => app.inject(url))
    await until(t, () => arrived === 4, 'the four requests reached their handlers', 30_000)
    await tick()
    t.equal(calls, 1, 'one run for the four, while it is held')
    release.open()
    const answers = await Promise.all(requests)
    t.same(answers.map((res) => res.statusCode), [200, 200, 200, 200])
    allValid(t, answers, 'the four answers')
    t.equal(calls, 1, 'and no other run')
  })
})

test('cacheFor', async (t) => {
  t.test('no new run within cacheFor', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => ({ observedValue: ++calls }), cacheFor: 60_000 } } })
    for (let i = 0; i < 50; i++) {
      const got = await getAnswer(t, app)
      t.equal(got.body.checks?.db?.[0]?.observedValue, 1)
    }
    await getAnswer(t, app, '/health/ready')
    t.equal(calls, 1)
  })

  t.test('the default cacheFor (1000 ms) reuses the reading', async (t) => {
    const runs: number[] = []
    const app = await validatedApp(t, { checks: { db: () => { runs.push(performance.now()) } } })
    const start = performance.now()
    await getAnswer(t, app)
    t.equal(runs.length, 1, 'the first request ran the check')
    // Requests every few ms until one runs it again: the reading is at least 1000 ms old by then.
    await requestUntil(t, app, () => runs.length >= 2, 'a request ran it again once the reading went stale')
    const gap = (runs[1] ?? -Infinity) - start
    t.ok(gap >= 1000, `every request in between reused the reading: no run before 1000 ms (second run after ${Math.round(gap)} ms)`)
  })

  t.test('a request after cacheFor starts a new run', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => ({ observedValue: ++calls }), cacheFor: 20, timeout: 5_000 } } })
    await getAnswer(t, app)
    t.equal(calls, 1)
    await sleep(40)
    await getAnswer(t, app)
    t.equal(calls, 2, 'the stale reading started a run')
  })

  t.test('within cacheFor + timeout the stale reading is served while the refresh runs', async (t) => {
    let calls = 0
    const second = gate()
    const app = await validatedApp(t, {
      checks: {
        db: {
          cacheFor: 20,
          timeout: 10_000,
          check: async () => {
            const n = ++calls
            if (n === 2) await second.promise
            return { observedValue: n }
          }
        }
      }
    })
    t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.observedValue, 1)
    await sleep(40)
    // The refresh hangs on the gate: the answer cannot be waiting for it.
    const stale = await getAnswer(t, app)
    t.equal(stale.body.checks?.db?.[0]?.observedValue, 1, 'the old reading, at once')
    t.equal(calls, 2, 'and a refresh was started')
    const again = await getAnswer(t, app)
    t.equal(again.body.checks?.db?.[0]?.observedValue, 1, 'still the old reading while the refresh runs')
    t.equal(calls, 2, 'and no second refresh')
    second.open()
    let latest: unknown
    for (let i = 0; i < 100 && latest !== 2; i++) {
      latest = (await getAnswer(t, app)).body.checks?.db?.[0]?.observedValue
      if (latest !== 2) await sleep(10)
    }
    t.equal(latest, 2, 'the refreshed reading is served once it arrives')
  })

  t.test('beyond cacheFor + timeout the request waits for the new run', async (t) => {
    let calls = 0
    const app = await validatedApp(t, {
      checks: {
        db: {
          cacheFor: 10,
          timeout: 30,
          check: () => {
            calls++
            // The first run passes; the second never ends.
            return calls === 1 ? { observedValue: 1 } : new Promise(() => {})
          }
        }
      }
    })
    t.equal((await getAnswer(t, app)).statusCode, 200)
    await sleep(100)
    const got = await getAnswer(t, app)
    t.equal(calls, 2)
    t.equal(got.statusCode, 503, 'not the stale pass: the request waited for the run, which timed out')
    t.equal(got.body.checks?.db?.[0]?.output, 'Timed out after 30 ms')
  })

  // A request skips looking at the checks until the first reading it counts goes stale.
  for (const order of ['short first', 'long first']) {
    t.test(`the shortest cacheFor decides when readings are looked at again (${order})`, async (t) => {
      const shortRuns: number[] = []
      let longRuns = 0
      const short = { cacheFor: 200, timeout: 5_000, check: () => { shortRuns.push(performance.now()) } }
      const long = { cacheFor: 3_600_000, check: () => { longRuns++ } }
      const app = await validatedApp(t, { checks: order === 'short first' ? { short, long } : { long, short } })
      const start = performance.now()
      await getAnswer(t, app)
      t.same([shortRuns.length, longRuns], [1, 1], 'the first request ran both')
      // The requests in the short one's window find both fresh and skip the checks, remembering
      // until when; the first one past that window must look again, and run the short one only.
      await requestUntil(t, app, () => shortRuns.length >= 2, 'the short one went stale and ran')
      const gap = (shortRuns[1] ?? -Infinity) - start
      t.ok(gap >= 200, `both fresh: no run before the short reading was 200 ms old (ran after ${Math.round(gap)} ms)`)
      t.equal(longRuns, 1, 'the long one did not run again')
    })
  }

  t.test('a check added while the others are fresh runs on the next request', async (t) => {
    let added = 0
    const app = await validatedApp(t, { checks: { db: { cacheFor: 60_000, check: () => {} } } })
    await getAnswer(t, app) // waits for db's first reading
    await getAnswer(t, app) // finds every reading fresh for a minute, and remembers that
    app.health.addCheck('cache:responseTime', () => ({ observedValue: ++added }), { cacheFor: 60_000 })
    const got = await getAnswer(t, app)
    t.equal(added, 1, 'it ran')
    t.equal(got.body.checks?.['cache:responseTime']?.[0]?.observedValue, 1, 'and its reading is in the answer')
  })

  t.test('cacheFor 0: while a timed-out run still hangs, requests get its timeout at once and start no second run', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => { calls++; return new Promise(() => {}) }, cacheFor: 0, timeout: 20 } } })
    const first = await getAnswer(t, app)
    t.equal(first.body.checks?.db?.[0]?.output, 'Timed out after 20 ms')
    for (let i = 0; i < 5; i++) t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.output, 'Timed out after 20 ms')
    t.equal(calls, 1, 'the hung run is the only one')
  })

  t.test('cacheFor 0: every request gets a fresh reading, concurrent ones still share one run', async (t) => {
    let calls = 0
    const app = await validatedApp(t, {
      checks: { db: { cacheFor: 0, timeout: 10_000, check: async () => { const n = ++calls; await sleep(10); return { observedValue: n } } } }
    })
    t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.observedValue, 1)
    t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.observedValue, 2, 'the next request waits for a new run, not the last reading')
    const together = await Promise.all(Array.from({ length: 10 }, () => app.inject('/health')))
    allValid(t, together, 'ten answers')
    const values = together.map((res) => (res.json() as HealthResponse).checks?.db?.[0]?.observedValue)
    t.same(values, Array.from({ length: 10 }, () => 3), 'ten concurrent requests: one run, one reading')
    t.equal(calls, 3)
  })
})

test('interval', async (t) => {
  t.test('runs in the background on its period, without requests', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => ({ observedValue: ++calls }), interval: 20 } } })
    const start = performance.now()
    await app.ready()
    t.equal(calls, 1, 'the first run starts when the instance is ready')
    // Ten runs, not four: enough periods for the bound below to catch a loop a little too fast.
    await until(t, () => calls >= 10, 'it runs again and again')
    const elapsed = performance.now() - start
    // Each run waits a full period after the last one: at most elapsed / 20 + 1 runs, plus one for
    // the event loop's clock, which may lag the real one when a timer is set.
    t.ok(calls <= Math.floor(elapsed / 20) + 2, `no more often than its period (${calls} runs in ${Math.round(elapsed)} ms)`)
    const got = await getAnswer(t, app)
    t.ok((got.body.checks?.db?.[0]?.observedValue as number) >= 10, 'a request reads the latest background reading')
  })

  t.test('requests only read: they never start a run, whatever cacheFor says', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => ({ observedValue: ++calls }), interval: 60_000, cacheFor: 0 } } })
    await app.ready()
    await sleep(5)
    for (let i = 0; i < 30; i++) await getAnswer(t, app)
    await getAnswer(t, app, '/health/ready')
    t.equal(calls, 1)
  })

  t.test('the first request waits for the first background run instead of starting another', async (t) => {
    let calls = 0
    let arrived = 0
    const release = gate()
    const app = await validatedApp(t, {
      checks: { db: { check: async () => { calls++; await release.promise; return { observedValue: 'first' } }, interval: 60_000, timeout: 60_000 } }
    })
    app.addHook('preHandler', async () => { arrived++ })
    await app.ready()
    let answered = false
    const request = app.inject('/health')
    request.then(() => { answered = true }, () => {})
    await until(t, () => arrived === 1, 'the request reached the handler while the run is held', 30_000)
    await tick()
    t.notOk(answered, 'it waits for the run')
    t.equal(calls, 1, 'and started no other')
    release.open()
    const res = await request
    allValid(t, [res], 'the answer')
    t.equal(calls, 1)
    t.equal((res.json() as HealthResponse).checks?.db?.[0]?.observedValue, 'first')
  })

  t.test('a check added after ready starts its loop at once', async (t) => {
    let calls = 0
    const app = await validatedApp(t)
    await app.ready()
    app.health.addCheck('late', () => { calls++ }, { interval: 20 })
    t.equal(calls, 1, 'run when added')
    await until(t, () => calls >= 3, 'and on its period')
  })

  t.test('a hung background check is not started again while it runs, and times out', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => { calls++; return new Promise(() => {}) }, interval: 10, timeout: 20 } } })
    await app.ready()
    let output: unknown
    for (let i = 0; i < 200 && output === undefined; i++) {
      await sleep(10)
      output = (await getAnswer(t, app)).body.checks?.db?.[0]?.output
    }
    t.equal(output, 'Timed out after 20 ms')
    await sleep(60)
    t.equal(calls, 1, 'never started a second time')
  })

  t.test('the loop timers do not keep the process alive', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => { calls++ }, interval: 30_000 } } })
    const before = refTimers()
    await app.ready()
    await until(t, () => calls === 1, 'the first run happened')
    await sleep(5)
    t.equal(refTimers(), before, 'the wait for the next run is unref\'d')
  })

  t.test('timers stop on close: the check is not called after app.close()', async (t) => {
    let calls = 0
    const app = await validatedApp(t, { checks: { db: { check: () => { calls++ }, interval: 10 } } })
    await app.ready()
    await until(t, () => calls >= 3, 'it runs in the background')
    await app.close()
    const atClose = calls
    await sleep(100)
    t.equal(calls, atClose, 'no run after close')
  })

  t.test('close aborts a background run in flight', async (t) => {
    const signals: AbortSignal[] = []
    // The check honours its signal, as it should: it ends when aborted.
    const check: CheckFunction = (signal) => {
      signals.push(signal)
      return new Promise((resolve, reject) => { signal.addEventListener('abort', () => reject(signal.reason)) })
    }
    const app = await validatedApp(t, { checks: { db: { check, interval: 10, timeout: 60_000 } } })
    await app.ready()
    t.equal(signals.length, 1)
    t.notOk(signals[0]?.aborted)
    await app.close()
    t.ok(signals[0]?.aborted, 'the signal is aborted on close')
    t.match(signals[0]?.reason, { message: 'The instance stopped before the check answered' })
  })

  // Regression: CheckRunner.stop() aborts the signal but leaves the run's timeout timer (ref'd)
  // in place until the check settles: a hung check keeps a closed process alive for `timeout` ms.
  t.test('close leaves no timer of a hung check behind', async (t) => {
    let settle = (): void => {}
    const app = await validatedApp(t, {
      checks: { db: { check: () => new Promise<undefined>((resolve) => { settle = () => resolve(undefined) }), interval: 10, timeout: 60_000 } }
    })
    const before = refTimers()
    await app.ready()
    await app.close()
    t.equal(refTimers(), before, 'no timer left that keeps the process alive')
    // Let the hung check end, which clears the timer, so that this test file exits.
    settle()
    await tick()
    await tick()
    t.equal(refTimers(), before, 'the timer is gone once the check settles')
  })
})

// A new AbortController costs more than a whole reading of a cheap check, so a run's controller
// is passed to the next run when the run ended untouched: not aborted, no listener left on it.
test('the signal of a run', async (t) => {
  t.test('a run that left a listener on its signal gives the next run a new one: listeners never pile up', async (t) => {
    const signals: AbortSignal[] = []
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => { warnings.push(warning) }
    process.on('warning', onWarning)
    t.teardown(() => { process.off('warning', onWarning) })
    // A careless check: it listens for the abort and never stops listening.
    const check: CheckFunction = (signal) => {
      signals.push(signal)
      signal.addEventListener('abort', () => {})
    }
    const app = await validatedApp(t, { checks: { db: { check, cacheFor: 0 } } })
    for (let i = 0; i < 30; i++) t.equal((await app.inject('/health')).statusCode, 200)
    t.equal(signals.length, 30)
    t.equal(new Set(signals).size, 30, 'each run had a signal of its own')
    await tick()
    t.same(warnings.map((warning) => warning.name), [], 'no MaxListenersExceededWarning')
  })

  t.test('a run that left its signal untouched passes it on, and a check that listens later still gets told', async (t) => {
    const signals: AbortSignal[] = []
    let hang = false
    const check: CheckFunction = (signal) => {
      signals.push(signal)
      if (!hang) return { observedValue: signals.length }
      return new Promise((resolve, reject) => { signal.addEventListener('abort', () => reject(signal.reason), { once: true }) })
    }
    const app = await validatedApp(t, { checks: { db: { check, cacheFor: 0, timeout: 50 } } })
    for (let i = 0; i < 3; i++) t.equal((await app.inject('/health')).statusCode, 200)
    t.equal(new Set(signals).size, 1, 'one signal served the three untouched runs')
    hang = true
    const timedOut = await getAnswer(t, app)
    t.equal(timedOut.statusCode, 503, 'the hung run timed out')
    t.equal(signals[3], signals[0], 'the hung run had the passed-on signal')
    t.ok(signals[3]?.aborted, 'and it was aborted at the timeout')
    hang = false
    // The timed-out run still hangs (it ignores nothing: it rejects on abort), then a new run passes.
    let code = 0
    for (let i = 0; i < 100 && code !== 200; i++) code = (await app.inject('/health')).statusCode
    t.equal(code, 200, 'it passes again')
    const after = signals.at(-1)
    t.not(after, signals[0], 'an aborted signal is never handed out again')
    t.notOk(after?.aborted, 'the new run has a live signal')
  })

  t.test('a signal nothing is tied to serves every run', async (t) => {
    const signals = new Set<AbortSignal>()
    const check: CheckFunction = (signal) => { signals.add(signal) }
    const app = await validatedApp(t, { checks: { db: { check, cacheFor: 0 } } })
    for (let i = 0; i < 100; i++) t.equal((await app.inject('/health')).statusCode, 200)
    // Where Node.js keeps no set of a signal's composites (Node.js 24), a signal counts as tied.
    const counted = abortTies(new AbortController().signal) === 0
    t.equal(signals.size, counted ? 1 : 7, counted ? 'one signal for 100 runs' : 'a signal every 16 runs: ties cannot be counted here')
  })

  t.test('one signal serves at most 16 runs once AbortSignal.any() ties to it: what it holds stays bounded', async (t) => {
    // A composite made from the run's signal leaves no listener on it, yet Node.js 20 keeps an
    // entry for it on the signal for good: a signal that served every run would hold one per run.
    const runsOf = new Map<AbortSignal, number>()
    const check: CheckFunction = (signal) => {
      runsOf.set(signal, (runsOf.get(signal) ?? 0) + 1)
      AbortSignal.any([signal, new AbortController().signal])
    }
    const app = await validatedApp(t, { checks: { db: { check, cacheFor: 0 } } })
    for (let i = 0; i < 100; i++) t.equal((await app.inject('/health')).statusCode, 200)
    t.equal([...runsOf.values()].reduce((sum, runs) => sum + runs, 0), 100, 'every run had a signal')
    t.equal(Math.max(...runsOf.values()), 16, 'none served more than 16 runs, and untouched ones were passed on')
    t.equal(runsOf.size, 7, 'seven signals for 100 runs')
  })
})
