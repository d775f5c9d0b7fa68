// The `openTelemetry` option with the real SDK: a MeterProvider of @opentelemetry/sdk-metrics
// read by a MetricReader's collect(), the global provider of @opentelemetry/api, and the SDK's
// Prometheus exporter scraped over real HTTP; through state changes, a failing check,
// thresholds, removal and close.
import { setTimeout as sleep } from 'node:timers/promises'
import { metrics } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { test, type Test } from 'tap'
import fastifyHealth, { type FastifyHealthOptions, State } from '../lib/index.js'
import { loadPeer } from '../lib/metrics/figures.js'
import { controlledCheck, newApp, samplesBy, scrape } from './helpers.js'
import { freePort } from './servers/common.js'

/** A reader that collects when the test asks. */
class OnDemandReader extends MetricReader {
  protected async onForceFlush (): Promise<void> {}
  protected async onShutdown (): Promise<void> {}
}

/** A provider of the SDK with a reader, shut down when the test ends. */
function sdk (t: Test): { provider: MeterProvider, read: () => Promise<MetricData[]> } {
  const reader = new OnDemandReader()
  const provider = new MeterProvider({ readers: [reader] })
  t.teardown(() => provider.shutdown())
  return {
    provider,
    read: async () => {
      const { resourceMetrics, errors } = await reader.collect()
      t.same(errors, [], 'collected without errors')
      return resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === 'fastify-health').flatMap((scope) => scope.metrics)
    }
  }
}

const none = { pass: 0, warn: 0, fail: 0 }
const only = (status: 'pass' | 'warn' | 'fail'): Record<string, number> => ({ ...none, [status]: 1 })

/** A gauge's points whose attributes include `attributes`, by the `health.status` attribute. */
function stateSet (data: MetricData[], name: string, attributes: Record<string, string> = {}): Record<string, number> {
  const metric = data.find((each) => each.descriptor.name === name)
  const found: Record<string, number> = {}
  for (const point of metric?.dataPoints ?? []) {
    if (!Object.entries(attributes).every(([key, value]) => point.attributes[key] === value)) continue
    found[point.attributes['health.status'] as string] = point.value as number
  }
  return found
}

async function app (t: Test, options: Partial<FastifyHealthOptions>): Promise<ReturnType<typeof newApp>> {
  const instance = newApp(t)
  await instance.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', ...options })
  await instance.ready()
  return instance
}

test('health.status and health.check.status: state sets through a state change, a failing check and recovery', async (t) => {
  const { provider, read } = sdk(t)
  const db = controlledCheck()
  const orders = await app(t, { openTelemetry: { meterProvider: provider }, checks: { db: { check: db.check, cacheFor: 0 } } })
  let data = await read()
  t.same(stateSet(data, 'health.status'), only('fail'), 'No information: fail; one point per status')
  // With metrics on, a check keeps fresh by itself from the moment the instance is ready.
  for (let tries = 0; tries < 100 && stateSet(data, 'health.check.status').pass === undefined; tries++) data = await read()
  t.same(stateSet(data, 'health.check.status'), only('pass'), 'a reading with no request: the background run at ready')
  const gauge = data.find((each) => each.descriptor.name === 'health.status')
  t.equal(gauge?.dataPointType, DataPointType.GAUGE, 'a gauge')
  t.match(gauge?.descriptor.description, /1 for the current status/)

  orders.health.setStateWorking()
  await orders.inject('/health')
  data = await read()
  t.same(stateSet(data, 'health.status'), only('pass'))
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'db' }), only('pass'))

  db.set('fail')
  await orders.inject('/health')
  data = await read()
  t.same(stateSet(data, 'health.status'), only('fail'))
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'db' }), only('fail'), 'the failing check')

  db.set('pass')
  await orders.inject('/health')
  data = await read()
  t.same(stateSet(data, 'health.status'), only('pass'), 'recovered')
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'db' }), only('pass'))
  const attributes = data.flatMap((metric) => metric.dataPoints.map((point) => Object.keys(point.attributes).sort().join(',')))
  t.same([...new Set(attributes)].sort(), ['health.check.name,health.status', 'health.status'], 'only the check name and the status as attributes')
})

test('thresholds, criticality and removal', async (t) => {
  const { provider, read } = sdk(t)
  const db = controlledCheck()
  const orders = await app(t, {
    initialState: State.WORK,
    openTelemetry: { meterProvider: provider },
    checks: { db: { check: db.check, cacheFor: 0, failureThreshold: 2 }, cache: { check: () => ({ status: 'fail' }), critical: false } }
  })
  await orders.inject('/health')
  t.same(stateSet(await read(), 'health.check.status', { 'health.check.name': 'cache' }), only('warn'), 'a failing non-critical check counts as warn')
  db.set('fail')
  await orders.inject('/health')
  t.same(stateSet(await read(), 'health.check.status', { 'health.check.name': 'db' }), only('warn'), 'one failing reading of 2: warn')
  await orders.inject('/health')
  let data = await read()
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'db' }), only('fail'), 'the second: fail')
  t.same(stateSet(data, 'health.status'), only('fail'))
  orders.health.removeCheck('db')
  data = await read()
  // The SDK's cumulative temporality keeps every attribute set it has seen, at its last value.
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'db' }), none, 'a removed check: no status is current')
  t.same(stateSet(data, 'health.status'), only('warn'), 'and the overall status follows')
  t.same(stateSet(await read(), 'health.check.status', { 'health.check.name': 'db' }), none, 'and stays so')
})

test('with delta temporality, a removed check disappears', async (t) => {
  const reader = new OnDemandReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA })
  const provider = new MeterProvider({ readers: [reader] })
  t.teardown(() => provider.shutdown())
  const read = async (): Promise<MetricData[]> => (await reader.collect()).resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
  const orders = await app(t, { initialState: State.WORK, openTelemetry: { meterProvider: provider }, checks: { db: () => ({}), cache: () => ({}) } })
  await orders.inject('/health')
  t.same(stateSet(await read(), 'health.check.status', { 'health.check.name': 'db' }), only('pass'))
  orders.health.removeCheck('db')
  t.same(stateSet(await read(), 'health.check.status', { 'health.check.name': 'db' }), none, 'once at 0')
  const data = await read()
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'db' }), {}, 'then gone')
  t.same(stateSet(data, 'health.check.status', { 'health.check.name': 'cache' }), only('pass'), 'the other check stays')
})

test('health.check.duration: a histogram in seconds by check and the reading\'s own status', async (t) => {
  const { provider, read } = sdk(t)
  const orders = await app(t, {
    initialState: State.WORK,
    openTelemetry: { meterProvider: provider },
    checks: {
      slow: { check: () => sleep(30).then(() => ({})), cacheFor: 0 },
      hung: { check: () => sleep(500).then(() => ({})), cacheFor: 0, timeout: 50 }
    }
  })
  await orders.inject('/health')
  await orders.inject('/health')
  const histogram = (await read()).find((each) => each.descriptor.name === 'health.check.duration')
  t.equal(histogram?.dataPointType, DataPointType.HISTOGRAM)
  t.equal(histogram?.descriptor.unit, 's', 'unit s')
  const points = new Map(histogram?.dataPoints.map((point) => [`${String(point.attributes['health.check.name'])} ${String(point.attributes['health.status'])}`, point.value as { count: number, sum: number, buckets: { boundaries: number[] } }]))
  t.same([...points.keys()].sort(), ['hung fail', 'slow pass'])
  const slow = points.get('slow pass')
  t.equal(slow?.count, 2, 'two runs')
  t.ok((slow?.sum as number) >= 2 * 0.029 && (slow?.sum as number) < 2 * 5, `seconds (${String(slow?.sum)})`)
  t.equal(points.get('hung fail')?.sum, 0.05, 'a run that timed out took its timeout (one run: it is not started again until it settles)')
  t.same(slow?.buckets.boundaries, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10], 'the advised buckets, to 10 s')
})

test('openTelemetry: true uses the global MeterProvider of @opentelemetry/api', async (t) => {
  const { provider, read } = sdk(t)
  metrics.setGlobalMeterProvider(provider)
  t.teardown(() => metrics.disable())
  const orders = await app(t, { initialState: State.WORK, openTelemetry: true })
  t.same(stateSet(await read(), 'health.status'), only('pass'))
  await orders.close()
  t.equal(orders.health.state, State.SHUTDOWN, 'closed: Shutting down (warn)')
  // The SDK goes on exporting the last values it saw: had the callback stayed, it would say warn.
  t.same(stateSet(await read(), 'health.status'), only('pass'), 'nothing is observed after close')
})

test('openTelemetry: true with no SDK installed: nothing happens and nothing breaks', async (t) => {
  metrics.disable()
  const orders = await app(t, { initialState: State.WORK, openTelemetry: true, checks: { db: () => ({}) } })
  const res = await orders.inject('/health')
  t.equal(res.statusCode, 200)
  await orders.close()
})

test('the SDK\'s Prometheus exporter, scraped over real HTTP', async (t) => {
  const port = await freePort()
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port })
  const provider = new MeterProvider({ readers: [exporter] })
  t.teardown(() => provider.shutdown())
  const db = controlledCheck('fail')
  const orders = await app(t, { initialState: State.WORK, openTelemetry: { meterProvider: provider }, checks: { db: db.check } })
  await orders.inject('/health')
  const got = await scrape(`http://127.0.0.1:${port}/metrics`)
  t.equal(got.statusCode, 200)
  t.same(samplesBy(got.samples, 'health_check_status', { health_check_name: 'db' }, 'health_status'), only('fail'))
  t.same(samplesBy(got.samples, 'health_status', {}, 'health_status'), only('fail'))
  t.match(got.text, /# TYPE health_check_duration histogram/)
  t.notMatch(got.text, /it is fail/, 'never a check output')
})

test('an optional peer that cannot be loaded: FST_HEALTH_PEER_MISSING, naming the option and the package', async (t) => {
  await t.rejects(loadPeer('fastify-health-no-such-package', 'openTelemetry'), {
    code: 'FST_HEALTH_PEER_MISSING',
    message: 'fastify-health: option "openTelemetry" needs the package fastify-health-no-such-package, which could not be loaded: install it beside fastify-health',
    cause: { message: /Cannot find package 'fastify-health-no-such-package'/ }
  })
})
