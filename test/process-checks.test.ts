import * as perfHooks from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, {
  type HealthCheckEntry, type ProcessChecksOptions, State
} from '../lib/index.js'
import { createProcessChecks } from '../lib/process-checks.js'
import { getAnswer, healthCodes, workingApp } from './helpers.js'

const ALL_OFF = { uptime: false, eventLoopDelay: false, eventLoopUtilization: false, memory: false } as const

/** Only the given process settings on; the rest off. */
const only = (settings: ProcessChecksOptions): ProcessChecksOptions => ({ ...ALL_OFF, ...settings })

/** Details are hidden by default: these tests read them. */
const detailedApp = (t: Test, options: Parameters<typeof workingApp>[1]): Promise<FastifyInstance> => workingApp(t, { exposeDetails: true, ...options })

const twoDecimals = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && Math.round(value * 100) / 100 === value

test('process: true adds the four checks, in the draft vocabulary', async (t) => {
  const uptimeBefore = process.uptime()
  const app = await detailedApp(t, { process: true })
  const { body } = await getAnswer(t, app)
  const uptimeAfter = process.uptime()
  t.same(Object.keys(body.checks ?? {}), ['uptime', 'eventloop:delay', 'eventloop:utilization', 'memory:utilization'])
  const checks = body.checks as Record<string, HealthCheckEntry[]>

  const [uptime] = checks.uptime ?? []
  t.match(uptime, { componentType: 'system', observedUnit: 's', status: 'pass', time: String })
  t.ok(Number.isInteger(uptime?.observedValue), 'uptime is whole seconds')
  t.ok((uptime?.observedValue as number) >= Math.floor(uptimeBefore) - 1 && (uptime?.observedValue as number) <= Math.ceil(uptimeAfter) + 1,
    'uptime is the process uptime')

  // The first event loop readings cover start-up: reported, not judged, so passing.
  const [delay] = checks['eventloop:delay'] ?? []
  t.match(delay, { componentType: 'system', observedUnit: 'ms', status: 'pass', time: String })
  t.ok(twoDecimals(delay?.observedValue) && (delay?.observedValue as number) >= 0, 'p99 delay in ms, rounded')

  const [utilization] = checks['eventloop:utilization'] ?? []
  t.match(utilization, { componentType: 'system', observedUnit: 'percent', status: 'pass', time: String })
  const percent = utilization?.observedValue as number
  t.ok(twoDecimals(percent) && percent >= 0 && percent <= 100, 'utilization in percent, rounded')

  const memory = checks['memory:utilization'] ?? []
  t.same(memory.map((e) => e.componentId), ['heapUsed', 'rss'], 'one node for the heap, one for the RSS')
  for (const entry of memory) {
    t.match(entry, { componentType: 'system', observedUnit: 'MiB', status: 'pass', time: String })
    t.ok(twoDecimals(entry.observedValue) && (entry.observedValue as number) > 0, `${String(entry.componentId)} in MiB, rounded`)
  }
  // The draft: output SHOULD be omitted for pass.
  for (const [name, entries] of Object.entries(checks)) {
    for (const entry of entries) t.notOk('output' in entry, `${name} ${String(entry.componentId ?? '')}: passing, with no output`)
  }
  const heapMiB = process.memoryUsage().heapUsed / 1024 / 1024
  t.ok((memory[0]?.observedValue as number) < heapMiB * 4 + 64, 'the heap reading is in MiB, not bytes')
})

test('process: false, or every setting off, adds no check', async (t) => {
  for (const setting of [false, ALL_OFF] as const) {
    const app = await detailedApp(t, { process: setting })
    const { body, statusCode } = await getAnswer(t, app)
    t.notOk(body.checks, JSON.stringify(setting))
    t.equal(statusCode, 200)
  }
})

test('each setting turns its check on or off', async (t) => {
  const cases: Array<[ProcessChecksOptions, string[]]> = [
    [only({ uptime: true }), ['uptime']],
    [only({ eventLoopDelay: true }), ['eventloop:delay']],
    [only({ eventLoopUtilization: {} }), ['eventloop:utilization']],
    [only({ memory: true }), ['memory:utilization']],
    [{ uptime: false, memory: false }, ['eventloop:delay', 'eventloop:utilization']],
    [{ uptime: undefined, eventLoopDelay: false, eventLoopUtilization: false, memory: { rss: undefined } }, ['uptime', 'memory:utilization']]
  ]
  for (const [settings, names] of cases) {
    const app = await detailedApp(t, { process: settings })
    const { body } = await getAnswer(t, app)
    t.same(Object.keys(body.checks ?? {}), names, JSON.stringify(settings))
  }
})

test('thresholds', async (t) => {
  const cases: Array<[string, ProcessChecksOptions, string, Array<[string | undefined, string, RegExp | undefined]>, 'pass' | 'warn' | 'fail']> = [
    ['eventLoopDelay { warn: 0 }', only({ eventLoopDelay: { warn: 0 } }), 'eventloop:delay',
      [[undefined, 'warn', /^p99 event loop delay \d+(\.\d+)? ms is at or above the warn threshold of 0 ms$/]], 'warn'],
    ['eventLoopDelay { fail: 0 }', only({ eventLoopDelay: { fail: 0 } }), 'eventloop:delay',
      [[undefined, 'fail', /^p99 event loop delay .* is at or above the fail threshold of 0 ms$/]], 'fail'],
    ['eventLoopDelay far away', only({ eventLoopDelay: { warn: 1e9, fail: 1e9 } }), 'eventloop:delay', [[undefined, 'pass', undefined]], 'pass'],
    ['eventLoopUtilization { fail: 0 }', only({ eventLoopUtilization: { fail: 0 } }), 'eventloop:utilization',
      [[undefined, 'fail', /^event loop utilization \d+(\.\d+)? percent is at or above the fail threshold of 0 percent$/]], 'fail'],
    ['eventLoopUtilization above 100', only({ eventLoopUtilization: { warn: 101 } }), 'eventloop:utilization', [[undefined, 'pass', undefined]], 'pass'],
    ['memory { rss: { fail: 1 } }', only({ memory: { rss: { fail: 1 } } }), 'memory:utilization',
      [['heapUsed', 'pass', undefined], ['rss', 'fail', /^rss \d+(\.\d+)? MiB is at or above the fail threshold of 1 MiB$/]], 'fail'],
    ['memory { heapUsed: { warn: 0 } }', only({ memory: { heapUsed: { warn: 0 } } }), 'memory:utilization',
      [['heapUsed', 'warn', /^heapUsed .* MiB is at or above the warn threshold of 0 MiB$/], ['rss', 'pass', undefined]], 'warn'],
    ['memory warn and fail crossed: fail wins', only({ memory: { rss: { warn: 1, fail: 2 } } }), 'memory:utilization',
      [['heapUsed', 'pass', undefined], ['rss', 'fail', /fail threshold of 2 MiB/]], 'fail'],
    ['memory far away', only({ memory: { heapUsed: { warn: 1e9, fail: 1e9 }, rss: { warn: 1e9 } } }), 'memory:utilization',
      [['heapUsed', 'pass', undefined], ['rss', 'pass', undefined]], 'pass'],
    ['uptime { warn: 1e9 } (a minimum)', only({ uptime: { warn: 1e9 } }), 'uptime',
      [[undefined, 'warn', /^uptime \d+ s is below the warn threshold of 1000000000 s$/]], 'warn'],
    ['uptime { fail: 1e9, warn: 1e9 }', only({ uptime: { fail: 1e9, warn: 1e9 } }), 'uptime',
      [[undefined, 'fail', /^uptime \d+ s is below the fail threshold of 1000000000 s$/]], 'fail'],
    ['uptime { warn: 0 }: never below', only({ uptime: { warn: 0 } }), 'uptime', [[undefined, 'pass', undefined]], 'pass']
  ]
  for (const [label, settings, name, nodes, overall] of cases) {
    t.test(label, async (t) => {
      // Event loop readings are judged from the second on: read them on a short interval.
      const app = await detailedApp(t, { process: name.startsWith('eventloop:') ? { ...settings, interval: 20 } : settings })
      let got = await getAnswer(t, app)
      // The first event loop reading is not judged: wait for the next one (a newer reading time).
      const first = got.body.checks?.[name]?.[0]?.time
      const startUp = (): boolean => name.startsWith('eventloop:') && got.body.checks?.[name]?.[0]?.time === first
      for (let i = 0; i < 500 && startUp(); i++) {
        await sleep(10)
        got = await getAnswer(t, app)
      }
      t.notOk(startUp(), 'a judged reading')
      const entries = got.body.checks?.[name] ?? []
      t.equal(entries.length, nodes.length)
      nodes.forEach(([componentId, status, output], i) => {
        const entry = entries[i]
        t.equal(entry?.componentId, componentId)
        t.equal(entry?.status, status, `${componentId ?? name}: ${status}`)
        if (output === undefined) t.notOk(entry !== undefined && 'output' in entry, 'no output when passing')
        else t.match(entry?.output, output)
      })
      t.equal(got.body.status, overall)
      t.equal(got.statusCode, healthCodes[overall])
      if (overall !== 'pass') t.match(got.body.output, new RegExp(`^${name}: ${overall} \\(`), 'summarised at the top')
    })
  }
})

test('the first event loop readings cover start-up and are reported, not judged', async (t) => {
  const app = await detailedApp(t, { process: only({ eventLoopDelay: { fail: 0 }, eventLoopUtilization: { fail: 0 } }) })
  const got = await getAnswer(t, app)
  t.equal(got.statusCode, 200, 'thresholds of 0 are not applied to the start-up window')
  for (const [name, what] of [['eventloop:delay', 'p99 event loop delay'], ['eventloop:utilization', 'event loop utilization']]) {
    const [entry] = got.body.checks?.[name] ?? []
    t.equal(entry?.status, 'pass', `${name}: pass`)
    t.notOk(entry !== undefined && 'output' in entry, `${name}: no output on a pass (the draft's SHOULD), though ${what} crossed 0`)
    t.type(entry?.observedValue, 'number', `${name}: the value is still reported`)
  }
})

test('critical and probes apply to every process check', async (t) => {
  t.test('critical: false turns a failing process check into warn', async (t) => {
    const app = await detailedApp(t, { process: only({ memory: { rss: { fail: 1 } }, critical: false }) })
    const got = await getAnswer(t, app)
    t.equal(got.statusCode, 202)
    t.equal((await getAnswer(t, app, '/health/ready')).statusCode, 200)
  })

  t.test("probes: ['live'] counts them for liveness, not readiness", async (t) => {
    const app = await detailedApp(t, { process: { ...ALL_OFF, memory: { rss: { fail: 1 } }, uptime: true, probes: ['live'] } })
    const live = await getAnswer(t, app, '/health/live')
    t.equal(live.statusCode, 503)
    t.same(Object.keys(live.body.checks ?? {}), ['uptime', 'memory:utilization'])
    const ready = await getAnswer(t, app, '/health/ready')
    t.equal(ready.statusCode, 200)
    t.notOk(ready.body.checks)
  })

  t.test('by default they count for readiness', async (t) => {
    const app = await detailedApp(t, { process: only({ uptime: { fail: 1e9 } }) })
    t.equal((await getAnswer(t, app, '/health/ready')).statusCode, 503)
    t.equal((await getAnswer(t, app, '/health/live')).statusCode, 200)
  })
})

test('default thresholds: a blocked event loop makes the delay warn', async (t) => {
  const app = await detailedApp(t, { process: only({ eventLoopDelay: true, interval: 400 }) })
  await app.ready()
  // Let the delay sampler tick after the first reading's reset: its first tick after a reset only
  // sets a baseline. The block then ends well before the next reading (due 400 ms after ready).
  await sleep(30)
  // Block the loop for 200 ms: the next window holds a delay of about that, at or above the default
  // warn threshold of 100 ms and under the default fail threshold of 1000 ms. The delay lands in
  // the window of the next reading or of the one after: look at a few. A block that fell before a
  // window's reset is seen by none of them: block again (at most three times), never a sleep guess.
  let delay: HealthCheckEntry | undefined
  for (let attempt = 0; attempt < 3 && delay?.status !== 'warn' && delay?.status !== 'fail'; attempt++) {
    const end = perfHooks.performance.now() + 200
    while (perfHooks.performance.now() < end) Math.sqrt(end)
    const seen = new Set<unknown>()
    for (let i = 0; i < 500 && seen.size < 5; i++) {
      delay = (await getAnswer(t, app)).body.checks?.['eventloop:delay']?.[0]
      seen.add(delay?.time)
      if (delay?.status !== 'pass') break
      await sleep(10)
    }
  }
  const value = delay?.observedValue as number
  t.ok(value >= 100, `a window saw the block (${String(value)} ms)`)
  // Only a machine that stalled the process for another 800 ms would cross the fail threshold.
  const expected = value >= 1000 ? 'fail' : 'warn'
  t.equal(delay?.status, expected)
  t.match(delay?.output, new RegExp(`^p99 event loop delay \\d+(\\.\\d+)? ms is at or above the ${expected} threshold of ${expected === 'warn' ? 100 : 1000} ms$`))
})

test('interval: readings are taken in the background on the configured period', async (t) => {
  const app = await detailedApp(t, { process: only({ uptime: true, interval: 20 }) })
  const first = await getAnswer(t, app)
  const time = first.body.checks?.uptime?.[0]?.time
  let latest = time
  for (let i = 0; i < 500 && latest === time; i++) {
    await sleep(10)
    latest = (await getAnswer(t, app)).body.checks?.uptime?.[0]?.time
  }
  t.not(latest, time, 'a newer reading without any run being asked for')
})

/** The latest reading of each process check, as served: a run gives a new reading time. */
async function readings (app: FastifyInstance): Promise<Map<string, string>> {
  const { body } = await app.health.report()
  return new Map(Object.entries(body.checks ?? {}).map(([name, entries]) => [name, JSON.stringify(entries)]))
}

async function buildWith (t: Test, settings: ProcessChecksOptions): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true, process: settings })
  return app
}

test('sampling costs nothing per request: requests only read the last readings', async (t) => {
  const app = await buildWith(t, { interval: 60_000 })
  await app.ready()
  const atReady = await readings(app)
  t.same([...atReady.keys()], ['uptime', 'eventloop:delay', 'eventloop:utilization', 'memory:utilization'], 'each check ran when the instance became ready')
  for (let i = 0; i < 30; i++) await getAnswer(t, app)
  await getAnswer(t, app, '/health/ready')
  const after = await readings(app)
  for (const [name, reading] of atReady) t.equal(after.get(name), reading, `${name}: no run for 31 requests`)
})

test('sampling stops on close', async (t) => {
  const app = await buildWith(t, { ...ALL_OFF, uptime: true, interval: 10 })
  await app.ready()
  const first = (await readings(app)).get('uptime')
  for (let i = 0; i < 500 && (await readings(app)).get('uptime') === first; i++) await sleep(10)
  t.not((await readings(app)).get('uptime'), first, 'sampling on its interval')
  await app.close()
  const atClose = (await readings(app)).get('uptime')
  await sleep(80)
  t.equal((await readings(app)).get('uptime'), atClose, 'no reading after close')
})

test('dispose() disables the event loop delay histogram', async (t) => {
  const made: Array<{ enabled: number, disabled: number }> = []
  const monitor = (options?: perfHooks.EventLoopMonitorOptions): perfHooks.IntervalHistogram => {
    const histogram = perfHooks.monitorEventLoopDelay(options)
    const counts = { enabled: 0, disabled: 0 }
    made.push(counts)
    const enable = histogram.enable.bind(histogram)
    const disable = histogram.disable.bind(histogram)
    histogram.enable = () => { counts.enabled++; return enable() }
    histogram.disable = () => { counts.disabled++; return disable() }
    return histogram
  }
  const checks = createProcessChecks({}, monitor)
  t.same(made, [{ enabled: 1, disabled: 0 }], 'sampling starts when the checks are made')
  checks.dispose()
  t.same(made, [{ enabled: 1, disabled: 1 }], 'and stops on dispose')
  createProcessChecks({ eventLoopDelay: false }, monitor).dispose()
  t.equal(made.length, 1, 'no histogram when the delay check is off')
})

// Regression: the first utilization reading covers the time from registration to ready, when the
// loop is always busy, so a freshly started service reads ~100% and answers warn (202) for a whole
// interval (5 s by default). Same window for the first event loop delay reading.
test('a freshly started service with the default process checks passes', async (t) => {
  const app = await detailedApp(t, { process: true })
  const got = await getAnswer(t, app)
  t.equal(got.body.checks?.['eventloop:utilization']?.[0]?.status, 'pass', 'utilization passes')
  t.equal(got.statusCode, 200, '200 right after start')
})

// Regression: `{ warn: 200, fail: 100 }` and negative thresholds were accepted, while the shared
// rule of the ready-made checks (thresholds.ts) refuses them.
test('thresholds follow the shared rule: finite numbers from 0, warn before fail', async (t) => {
  const wrong: Array<[ProcessChecksOptions, RegExp]> = [
    [{ eventLoopDelay: { warn: 200, fail: 100 } }, /sets eventLoopDelay to a \{ warn, fail \} object that sets warn to 200 and fail to 100: warn must come before fail/],
    [{ eventLoopUtilization: { warn: -1 } }, /sets eventLoopUtilization to a \{ warn, fail \} object that sets warn to -1: expected a finite number from 0/],
    [{ eventLoopDelay: { fail: Infinity } }, /sets eventLoopDelay .* sets fail to Infinity/],
    [{ memory: { heapUsed: { warn: 500, fail: 400 } } }, /sets memory\.heapUsed to a \{ warn, fail \} object that sets warn to 500 and fail to 400: warn must come before fail/],
    [{ memory: { rss: { fail: -5 } } }, /sets memory\.rss to a \{ warn, fail \} object that sets fail to -5/],
    // A minimum: warn comes first from above.
    [{ uptime: { warn: 10, fail: 60 } }, /sets uptime to a \{ warn, fail \} object that sets warn to 10 and fail to 60: warn must come before fail/],
    [{ uptime: { minimum: 5 } as never }, /sets uptime to a \{ warn, fail \} object that has an unknown threshold "minimum"/],
    [{ memory: { heap: { warn: 1 } } as never }, /sets memory to something other than a boolean or \{ heapUsed, rss \} thresholds/],
    [{ memory: { rss: 5 } as never }, /sets memory to something other than/]
  ]
  for (const [settings, message] of wrong) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', process: settings }) },
      { code: 'FST_HEALTH_INVALID_OPTION', message: new RegExp(`option "process" ${message.source}`) }, JSON.stringify(settings))
  }
  // What the rule lets through: equal levels, 0, an uptime minimum with warn above fail, more than 100 percent.
  const fine: ProcessChecksOptions = {
    eventLoopDelay: { warn: 100, fail: 100 }, eventLoopUtilization: { warn: 0, fail: 101 }, uptime: { warn: 60, fail: 10 }, memory: { rss: { warn: 0 } }
  }
  const app = await detailedApp(t, { process: fine })
  t.same(Object.keys((await getAnswer(t, app)).body.checks ?? {}), ['uptime', 'eventloop:delay', 'eventloop:utilization', 'memory:utilization'])
})
