import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import fastifyHealth, {
  type CheckFunction, type CheckOptions, type ComponentDetail, type FastifyHealthOptions, type HealthResponse, State, type Status
} from '../lib/index.js'
import { getAnswer, healthCodes, listeningApp, loggedApp, newApp, probeCodes, request, schemaErrors, workingApp } from './helpers.js'

// Every request below waits for a fresh run (cacheFor 0) of a check whose result the test sets:
// one request, one reading. The entries always show that reading; the thresholds decide how the
// check counts in the status and what the top-level output says.

interface Rig {
  app: FastifyInstance
  /** What the check returns from its next run on. */
  set: (result: ComponentDetail) => void
  /** How many times the check ran. */
  runs: () => number
}

async function rig (t: Test, options: CheckOptions, plugin: Partial<FastifyHealthOptions> = {}): Promise<Rig> {
  let result: ComponentDetail = {}
  let runs = 0
  const check: CheckFunction = () => { runs++; return result }
  const app = await workingApp(t, { checks: { db: { check, cacheFor: 0, ...options } }, ...plugin })
  return { app, set: (next) => { result = next }, runs: () => runs }
}

const pass: ComponentDetail = { status: 'pass' }
const fail: ComponentDetail = { status: 'fail' }
const down: ComponentDetail = { status: 'fail', output: 'refused' }
const slow: ComponentDetail = { status: 'warn', output: 'slow' }

/** One reading: what the check returns, where it is read, and the status and output expected there. */
type Step = [result: ComponentDetail, url: string, status: Status, output: string | undefined]

/** Reads each step in turn, asserting the counted status, the output, and the entry as the check said it. */
async function play (t: Test, { app, set }: Rig, steps: Step[]): Promise<void> {
  for (const [i, [result, url, status, output]] of steps.entries()) {
    set(result)
    const got = await getAnswer(t, app, url)
    const label = `reading ${i + 1} (${result.status ?? 'pass'}) on ${url}`
    t.equal(got.body.status, status, `${label}: counts as ${status}`)
    t.equal(got.body.output, output, `${label}: output`)
    const entry = got.body.checks?.db?.[0]
    t.equal(entry?.status, result.status ?? 'pass', `${label}: the entry shows the reading as it is`)
    t.equal(entry?.output, result.output, `${label}: with its own output`)
  }
}

test('the defaults: every reading counts at once', async (t) => {
  const r = await rig(t, {})
  await play(t, r, [
    [pass, '/health', 'pass', undefined],
    [down, '/health', 'fail', 'db: fail (refused)'],
    [pass, '/health/ready', 'pass', undefined],
    [fail, '/health/ready', 'fail', 'db: fail'],
    [slow, '/health', 'warn', 'db: warn (slow)'],
    [pass, '/health', 'pass', undefined]
  ])
})

test('failureThreshold', async (t) => {
  t.test('a failing reading counts as warn until enough come in a row, and the output says so', async (t) => {
    const r = await rig(t, { failureThreshold: 3 })
    await play(t, r, [
      [pass, '/health', 'pass', undefined],
      [fail, '/health', 'warn', 'db: fail (1 of 3 failing readings before it counts)'],
      [down, '/health/ready', 'warn', 'db: fail (refused, 2 of 3 failing readings before it counts)'],
      [down, '/health', 'fail', 'db: fail (refused)'],
      [down, '/health/ready', 'fail', 'db: fail (refused)'],
      [pass, '/health', 'pass', undefined],
      [fail, '/health/ready', 'warn', 'db: fail (1 of 3 failing readings before it counts)']
    ])
    t.equal(r.runs(), 7, 'one run per request')
  })

  t.test('the readiness probe stays up, with warnings, while failures do not count yet', async (t) => {
    const r = await rig(t, { failureThreshold: 2 })
    r.set(down)
    const held = await getAnswer(t, r.app, '/health/ready')
    t.equal(held.statusCode, 200)
    t.same(held.body.notes, ['Service is ready, with warnings'])
    const counted = await getAnswer(t, r.app, '/health/ready')
    t.equal(counted.statusCode, 503)
    t.same(counted.body.notes, ['Service is not ready'])
    t.equal((await getAnswer(t, r.app, '/health/live')).statusCode, 200, 'liveness does not count the check')
  })

  t.test('a check starts out counted as passing: failures at start-up need the threshold too', async (t) => {
    const r = await rig(t, { failureThreshold: 2 })
    await play(t, r, [
      [down, '/health', 'warn', 'db: fail (refused, 1 of 2 failing readings before it counts)'],
      [down, '/health', 'fail', 'db: fail (refused)']
    ])
  })

  t.test('warn is not failing: a warning reading breaks the run of failures, and counts as warn', async (t) => {
    const r = await rig(t, { failureThreshold: 2 })
    await play(t, r, [
      [fail, '/health', 'warn', 'db: fail (1 of 2 failing readings before it counts)'],
      [slow, '/health', 'warn', 'db: warn (slow)'],
      [fail, '/health', 'warn', 'db: fail (1 of 2 failing readings before it counts)'],
      [fail, '/health', 'fail', 'db: fail'],
      [slow, '/health', 'warn', 'db: warn (slow)']
    ])
  })

  t.test('a timeout is a failing reading', async (t) => {
    const app = await workingApp(t, { checks: { db: { check: () => new Promise(() => {}), timeout: 20, failureThreshold: 2 } } })
    const held = await getAnswer(t, app)
    t.equal(held.body.status, 'warn')
    t.equal(held.body.output, 'db: fail (Timed out after 20 ms, 1 of 2 failing readings before it counts)')
    t.equal(held.body.checks?.db?.[0]?.status, 'fail')
  })

  t.test('readings count, not requests: a cached reading read again does not add to the run', async (t) => {
    const r = await rig(t, { failureThreshold: 2, cacheFor: 60_000 })
    r.set(fail)
    for (let i = 0; i < 5; i++) {
      const got = await getAnswer(t, r.app, i % 2 === 0 ? '/health' : '/health/ready')
      t.equal(got.body.output, 'db: fail (1 of 2 failing readings before it counts)', `request ${i + 1}: still the first failing reading`)
    }
    t.equal(r.runs(), 1)
  })

  t.test('a non-critical check: not-yet-counted and counted failures both give warn', async (t) => {
    const r = await rig(t, { failureThreshold: 2, critical: false })
    await play(t, r, [
      [down, '/health', 'warn', 'db: fail (refused, 1 of 2 failing readings before it counts)'],
      [down, '/health', 'warn', 'db: fail (refused)'],
      [down, '/health/ready', 'warn', 'db: fail (refused)']
    ])
  })

  t.test('hidden details: a failure that does not count yet is a check warning', async (t) => {
    const r = await rig(t, { failureThreshold: 2 }, { exposeDetails: false })
    r.set(down)
    const held = await getAnswer(t, r.app)
    t.same(held.body, { status: 'warn', notes: ['Service is running, but checks warn'], output: '1 check warning', serviceId: 'orders' })
    const counted = await getAnswer(t, r.app)
    t.same(counted.body, { status: 'fail', notes: ['Service is running, but checks fail'], output: '1 check failing', serviceId: 'orders' })
  })

  t.test('onChange hears the status the check counts with', async (t) => {
    const r = await rig(t, { failureThreshold: 2 })
    const changes: Array<[Status, Status]> = []
    r.app.health.onChange((current, previous) => { changes.push([current, previous]) })
    await getAnswer(t, r.app)
    r.set(fail)
    await getAnswer(t, r.app)
    await getAnswer(t, r.app)
    await getAnswer(t, r.app)
    r.set(pass)
    await getAnswer(t, r.app)
    t.same(changes, [['warn', 'pass'], ['fail', 'warn'], ['pass', 'fail']])
  })
})

test('successThreshold', async (t) => {
  t.test('a failing check counts as failing until enough passing readings come in a row', async (t) => {
    const r = await rig(t, { successThreshold: 3 })
    await play(t, r, [
      [pass, '/health', 'pass', undefined],
      [down, '/health', 'fail', 'db: fail (refused)'],
      [pass, '/health/ready', 'fail', 'db: pass (1 of 3 passing readings before it counts again)'],
      [pass, '/health', 'fail', 'db: pass (2 of 3 passing readings before it counts again)'],
      [pass, '/health/ready', 'pass', undefined],
      [pass, '/health', 'pass', undefined]
    ])
  })

  t.test('warn passes: it adds to the run, and counts as warn once the run is long enough', async (t) => {
    const r = await rig(t, { successThreshold: 2 })
    await play(t, r, [
      [fail, '/health', 'fail', 'db: fail'],
      [slow, '/health', 'fail', 'db: warn (slow, 1 of 2 passing readings before it counts again)'],
      [slow, '/health', 'warn', 'db: warn (slow)'],
      [pass, '/health', 'pass', undefined]
    ])
  })

  t.test('a failing reading starts the count again', async (t) => {
    const r = await rig(t, { successThreshold: 2 })
    await play(t, r, [
      [fail, '/health', 'fail', 'db: fail'],
      [pass, '/health', 'fail', 'db: pass (1 of 2 passing readings before it counts again)'],
      [down, '/health', 'fail', 'db: fail (refused)'],
      [pass, '/health', 'fail', 'db: pass (1 of 2 passing readings before it counts again)'],
      [pass, '/health', 'pass', undefined]
    ])
  })

  t.test('both thresholds, Kubernetes style', async (t) => {
    const r = await rig(t, { failureThreshold: 2, successThreshold: 2 })
    await play(t, r, [
      [pass, '/health/ready', 'pass', undefined],
      [down, '/health/ready', 'warn', 'db: fail (refused, 1 of 2 failing readings before it counts)'],
      [pass, '/health/ready', 'pass', undefined],
      [down, '/health/ready', 'warn', 'db: fail (refused, 1 of 2 failing readings before it counts)'],
      [down, '/health', 'fail', 'db: fail (refused)'],
      [pass, '/health/ready', 'fail', 'db: pass (1 of 2 passing readings before it counts again)'],
      [down, '/health', 'fail', 'db: fail (refused)'],
      [pass, '/health', 'fail', 'db: pass (1 of 2 passing readings before it counts again)'],
      [pass, '/health/ready', 'pass', undefined]
    ])
  })

  t.test('the state still comes first in the output', async (t) => {
    const r = await rig(t, { successThreshold: 2 }, { initialState: State.WARMUP })
    await play(t, r, [
      [fail, '/health', 'fail', 'Service state: Warming up; db: fail'],
      [pass, '/health', 'fail', 'Service state: Warming up; db: pass (1 of 2 passing readings before it counts again)'],
      [pass, '/health', 'warn', 'Service state: Warming up']
    ])
  })
})

test('over real HTTP', async (t) => {
  let result: ComponentDetail = pass
  const { base } = await listeningApp(t, {
    serviceName: 'orders',
    initialState: State.WORK,
    checks: { db: { check: () => result, cacheFor: 0, failureThreshold: 2, successThreshold: 2 } }
  })
  const steps: Array<[ComponentDetail, string, number, string | undefined]> = [
    [pass, '/health', healthCodes.pass, undefined],
    [down, '/health', healthCodes.warn, 'db: fail (refused, 1 of 2 failing readings before it counts)'],
    [down, '/health/ready', probeCodes.fail, 'db: fail (refused)'],
    [pass, '/health', healthCodes.fail, 'db: pass (1 of 2 passing readings before it counts again)'],
    [pass, '/health/ready', probeCodes.pass, undefined]
  ]
  for (const [i, [next, path, code, output]] of steps.entries()) {
    result = next
    const res = await request(base + path)
    const body = res.body as HealthResponse
    t.same(schemaErrors(body), [], `reading ${i + 1}: a valid health document`)
    t.equal(res.statusCode, code, `reading ${i + 1}: ${path} answers ${code}`)
    t.equal(body.output, output, `reading ${i + 1}: output`)
    t.equal(body.checks?.db?.[0]?.status, next.status, `reading ${i + 1}: the entry shows the reading`)
  }
})

test('bad thresholds throw FST_HEALTH_INVALID_CHECK', async (t) => {
  const app = await workingApp(t)
  const fn = (): undefined => undefined
  const cases: Array<[string, unknown, RegExp]> = [
    ['failureThreshold 0', { failureThreshold: 0 }, /check "c" option "failureThreshold" must be a positive integer/],
    ['failureThreshold negative', { failureThreshold: -1 }, /"failureThreshold" must be a positive integer/],
    ['failureThreshold fraction', { failureThreshold: 1.5 }, /"failureThreshold"/],
    ['failureThreshold string', { failureThreshold: '3' }, /"failureThreshold"/],
    ['failureThreshold NaN', { failureThreshold: Number.NaN }, /"failureThreshold"/],
    ['failureThreshold Infinity', { failureThreshold: Infinity }, /"failureThreshold"/],
    ['failureThreshold unsafe', { failureThreshold: 2 ** 53 }, /"failureThreshold"/],
    ['failureThreshold null', { failureThreshold: null }, /"failureThreshold"/],
    ['successThreshold 0', { successThreshold: 0 }, /check "c" option "successThreshold" must be a positive integer/],
    ['successThreshold true', { successThreshold: true }, /"successThreshold"/],
    ['successThreshold fraction', { successThreshold: 2.5 }, /"successThreshold"/],
    ['slowThreshold 0', { slowThreshold: 0 }, /check "c" option "slowThreshold" must be an integer number of milliseconds from 1/],
    ['slowThreshold negative', { slowThreshold: -100 }, /"slowThreshold"/],
    ['slowThreshold fraction', { slowThreshold: 0.5 }, /"slowThreshold"/],
    ['slowThreshold string', { slowThreshold: '1s' }, /"slowThreshold"/],
    ['slowThreshold past the timer limit', { slowThreshold: 2 ** 31 }, /"slowThreshold"/],
    ['a misspelt threshold', { failThreshold: 3 }, /unknown option "failThreshold"/]
  ]
  for (const [label, options, message] of cases) {
    t.throws(() => app.health.addCheck('c', fn, options as never), { code: 'FST_HEALTH_INVALID_CHECK', message }, label)
  }
  t.equal((await getAnswer(t, app)).body.checks, undefined, 'no check was registered')
  app.health.addCheck('edges', fn, {
    failureThreshold: Number.MAX_SAFE_INTEGER, successThreshold: 1, slowThreshold: 2 ** 31 - 1
  })
  app.health.addCheck('ones', fn, { failureThreshold: 1, successThreshold: Number.MAX_SAFE_INTEGER, slowThreshold: 1 })
  app.health.addCheck('unset', fn, { failureThreshold: undefined, successThreshold: undefined, slowThreshold: undefined })
  t.same(Object.keys((await getAnswer(t, app)).body.checks ?? {}), ['edges', 'ones', 'unset'], 'the limits are fine')

  t.test('in the checks option, the registration fails', async (t) => {
    for (const options of [{ failureThreshold: 0 }, { successThreshold: 'twice' }, { slowThreshold: -1 }]) {
      const app = newApp(t)
      await t.rejects(async () => { await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { db: { check: fn, ...options } as never } }) },
        { code: 'FST_HEALTH_INVALID_CHECK', message: new RegExp(`"${Object.keys(options)[0] ?? ''}"`) }, JSON.stringify(options))
    }
  })
})

test('slowThreshold', async (t) => {
  /** The slow-check warnings logged so far. */
  const slowLines = (lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> =>
    lines.filter((line) => typeof line.msg === 'string' && line.msg.includes('is slow'))

  t.test('a run past it is logged once per crossing, with the check and the duration', async (t) => {
    // Far above what a run that returns at once takes, even when a busy machine leaves the
    // process waiting for a CPU (a fast run once took 159 ms in CI beside the other files).
    const THRESHOLD = 500
    const { app, lines } = loggedApp(t)
    // Whether the next run waits (on a gate opened only once slowThreshold has passed) or returns at once.
    let hold: Promise<void> | undefined
    let began = (): void => {}
    await app.register(fastifyHealth, {
      exposeDetails: true,
      serviceName: 'orders',
      initialState: State.WORK,
      checks: { 'db:responseTime': { check: async () => { began(); await hold }, cacheFor: 0, timeout: 60_000, slowThreshold: THRESHOLD } }
    })
    /** A run that takes longer than THRESHOLD: its gate opens 100 ms past it. */
    const slowRun = async (): Promise<void> => {
      let open = (): void => {}
      hold = new Promise((resolve) => { open = resolve })
      const running = new Promise<void>((resolve) => { began = resolve })
      const answer = getAnswer(t, app)
      await running
      await sleep(THRESHOLD + 100)
      open()
      await answer
      hold = undefined
    }
    const fastRun = async (): Promise<void> => { await getAnswer(t, app) }

    await fastRun()
    t.same(slowLines(lines), [], 'a fast run logs nothing')
    await slowRun()
    t.equal(slowLines(lines).length, 1, 'the first slow run is logged')
    await slowRun()
    await slowRun()
    t.equal(slowLines(lines).length, 1, 'the next slow runs are not')
    await fastRun()
    await fastRun()
    await slowRun()
    const logged = slowLines(lines)
    t.equal(logged.length, 2, 'a slow run after a fast one is logged again')
    for (const line of logged) {
      t.equal(line.level, 40, 'as a warning')
      t.equal(line.check, 'db:responseTime', 'through the check\'s logger, bound to its name')
      t.equal(line.slowThreshold, THRESHOLD)
      t.ok(typeof line.durationMs === 'number' && line.durationMs >= THRESHOLD, `with the duration (${String(line.durationMs)} ms)`)
      t.match(line.msg, new RegExp(`^fastify-health: check "db:responseTime" is slow: \\d+ ms \\(slowThreshold ${THRESHOLD} ms\\)$`))
    }
  })

  t.test('a run that times out is slow at its timeout, whatever the threshold', async (t) => {
    const { app, lines } = loggedApp(t)
    let hang = false
    await app.register(fastifyHealth, {
      exposeDetails: true,
      serviceName: 'orders',
      initialState: State.WORK,
      // The threshold is past the timeout: only a timeout can make a run slow here.
      checks: { db: { check: () => hang ? new Promise<undefined>(() => {}) : undefined, cacheFor: 0, timeout: 30, slowThreshold: 10_000 } }
    })
    await getAnswer(t, app)
    hang = true
    const timedOut = await getAnswer(t, app)
    t.equal(timedOut.body.checks?.db?.[0]?.output, 'Timed out after 30 ms')
    const logged = slowLines(lines)
    t.equal(logged.length, 1, 'the timed-out run is logged')
    t.match(logged[0], { level: 40, check: 'db', durationMs: 30, slowThreshold: 10_000 })
  })

  t.test('off by default: not even a timeout is logged as slow', async (t) => {
    const { app, lines } = loggedApp(t)
    await app.register(fastifyHealth, {
      exposeDetails: true,
      serviceName: 'orders',
      initialState: State.WORK,
      checks: { db: { check: () => new Promise<undefined>(() => {}), timeout: 20 } }
    })
    t.equal((await getAnswer(t, app)).body.checks?.db?.[0]?.output, 'Timed out after 20 ms')
    t.same(slowLines(lines), [])
  })
})
