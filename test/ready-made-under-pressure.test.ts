// underPressureCheck against the real @fastify/under-pressure: what it reads before the first
// sample, after it, when the histogram had no sample, under pressure; and autoChecks finding it.
import underPressure from '@fastify/under-pressure'
import Fastify, { type FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import fastifyHealth, { type ComponentDetail } from '../lib/index.js'
import { underPressureCheck } from '../lib/checks/index.js'
import { expectHealthAnswer, loggedApp, newApp, schemaErrors } from './helpers.js'
import { checkContext, waitFor } from './servers/common.js'

type UnderPressureOptions = Parameters<typeof underPressure>[1]
const PRESSURE = 'under pressure: @fastify/under-pressure answers 503 to the other routes'

async function pressured (t: Test, options: UnderPressureOptions): Promise<FastifyInstance> {
  const app = newApp(t)
  await app.register(underPressure, options)
  await app.ready()
  return app
}

/** One run, read as a list of entries. */
const read = async (app: FastifyInstance): Promise<ComponentDetail[]> =>
  [(await underPressureCheck(app).check(new AbortController().signal, checkContext)) as ComponentDetail | ComponentDetail[]].flat()

test('anything but an instance with under-pressure is refused', async (t) => {
  const expects = 'a Fastify instance with @fastify/under-pressure registered (fastify.memoryUsage and fastify.isUnderPressure)'
  const bare = Fastify()
  t.teardown(() => bare.close())
  for (const [target, kind] of [[bare, 'a plain object'], [null, 'null'], [{ memoryUsage: () => ({}) }, 'a plain object'], ['app', 'string']] as const) {
    t.throws(() => underPressureCheck(target as never), {
      code: 'FST_HEALTH_INVALID_CHECK_TARGET', message: `fastify-health: underPressureCheck expects ${expects}, got ${kind}`
    }, String(kind))
  }
})

// Regression (the draft: output SHOULD be omitted for pass): it said 'no sample yet'.
test('before the plugin\'s first sample: one entry with no figure, and no output while passing', async (t) => {
  const app = await pressured(t, { sampleInterval: 60_000 })
  t.strictSame(await read(app), [{ componentType: 'system', status: 'pass', componentId: 'underPressure' }])
  const failing = await pressured(t, { sampleInterval: 60_000, healthCheck: async () => false, healthCheckInterval: 60_000 })
  t.strictSame(await read(failing), [{ componentType: 'system', status: 'fail', componentId: 'underPressure', output: PRESSURE }],
    'its healthCheck failing: under pressure before any sample')
})

test('after a sample: the four figures in their units, as the plugin read them', async (t) => {
  const app = await pressured(t, { sampleInterval: 50 })
  await waitFor('a sample', () => app.memoryUsage().rssBytes > 0 && Number.isFinite(app.memoryUsage().eventLoopDelay), 5_000, 10)
  const usage = app.memoryUsage()
  const entries = await read(app)
  t.strictSame(entries.map(({ componentId, observedUnit, status }) => ({ componentId, observedUnit, status })), [
    { componentId: 'eventLoop:delay', observedUnit: 'ms', status: 'pass' },
    { componentId: 'eventLoop:utilization', observedUnit: 'percent', status: 'pass' },
    { componentId: 'memory:heapUsed', observedUnit: 'bytes', status: 'pass' },
    { componentId: 'memory:rss', observedUnit: 'bytes', status: 'pass' }
  ])
  t.equal(entries[0]?.observedValue, Math.round(usage.eventLoopDelay * 100) / 100, 'delay to the hundredth of a ms')
  t.equal(entries[1]?.observedValue, Math.round(usage.eventLoopUtilized * 10_000) / 100, 'utilization in percent')
  t.equal(entries[2]?.observedValue, usage.heapUsed)
  t.equal(entries[3]?.observedValue, usage.rssBytes)
  for (const entry of entries) t.equal(entry.output, undefined, 'no output while passing')
})

test('an interval with no event loop sample (the plugin reads Infinity): no value, said in output when failing', async (t) => {
  // A sample interval as short as the histogram's resolution often sees no sample.
  for (const [options, status, output] of [
    // Passing: no output (the draft's SHOULD).
    [{ sampleInterval: 10 }, 'pass', undefined],
    [{ sampleInterval: 10, maxEventLoopDelay: 1000 }, 'fail', `${PRESSURE}; no event loop sample in the last interval`]
  ] as const) {
    const app = await pressured(t, options)
    const entries = await waitFor('an interval with no sample', async () => {
      const got = await read(app)
      return got.length === 4 && got[0]?.observedValue === undefined ? got : undefined
    }, 5_000, 3)
    t.strictSame(entries[0], { componentType: 'system', status, componentId: 'eventLoop:delay', ...(output === undefined ? {} : { output }) },
      `${JSON.stringify(options)}: the delay entry`)
    t.equal(entries[1]?.status, status, 'the other figures share the verdict')
  }
})

test('under pressure: every figure fails, through the plugin too', async (t) => {
  const app = newApp(t)
  await app.register(underPressure, { maxHeapUsedBytes: 1, sampleInterval: 10 })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { 'underPressure:pressure': { ...underPressureCheck(app), cacheFor: 0 } } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  app.health.setStateWorking()
  await waitFor('under pressure', () => app.isUnderPressure(), 5_000, 10)
  const got = await expectHealthAnswer(t, `${base}/health/checks/underPressure:pressure`, 503)
  const entries = (got.body as { checks: Record<string, ComponentDetail[]> }).checks['underPressure:pressure'] ?? []
  t.equal(entries.length, 4)
  for (const entry of entries) t.match(entry, { status: 'fail', output: new RegExp(`^${PRESSURE}`) }, String(entry.componentId))
})

test('autoChecks finds under-pressure, registered before or after the plugin, and logs it', async (t) => {
  for (const order of ['before', 'after']) {
    const { app, lines } = loggedApp(t)
    if (order === 'before') await app.register(underPressure, { sampleInterval: 10 })
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', autoChecks: { timeout: 500 } })
    if (order === 'after') await app.register(underPressure, { sampleInterval: 10 })
    await app.ready()
    app.health.setStateWorking()
    const res = await app.inject('/health')
    t.same(schemaErrors(res.json()), [])
    t.match(res.json().checks, { 'underPressure:pressure': [{ componentType: 'system' }] }, `${order}: the check is there`)
    t.match(lines.find((line) => line.msg === 'fastify-health: autoChecks registered'), { checks: { 'underPressure:pressure': ['default'] } })
  }
})

test('autoChecks leaves a check of the app\'s own under that name in place', async (t) => {
  const app = newApp(t)
  await app.register(underPressure, { sampleInterval: 10 })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', autoChecks: true, checks: { 'underPressure:pressure': () => ({ output: 'mine' }) } })
  await app.ready()
  t.match((await app.inject('/health')).json().checks, { 'underPressure:pressure': [{ output: 'mine' }] })
})
