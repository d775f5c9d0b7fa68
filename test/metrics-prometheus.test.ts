// The `prometheus` option: the figures on a real prom-client Registry, scraped over real HTTP
// from the app's own /metrics route as Prometheus would, through state changes, a failing check,
// thresholds, a non-critical check, removal and close.
import { cp, mkdir, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { test, type Test } from 'tap'
import fastifyHealth, { type FastifyHealthOptions, type PrometheusRegistry, State } from '../lib/index.js'
import { controlledCheck, newApp, type Sample, samplesBy, scrape } from './helpers.js'
import { scratchDir } from './servers/common.js'

const none = { pass: 0, warn: 0, fail: 0 }
const only = (status: 'pass' | 'warn' | 'fail'): Record<string, number> => ({ ...none, [status]: 1 })

/** An app with the plugin on `registry` and a /metrics route serving it, listening on 127.0.0.1. */
async function scraped (t: Test, registry: PrometheusRegistry & { metrics: () => Promise<string>, contentType: string }, options: Partial<FastifyHealthOptions> = {}):
Promise<{ app: FastifyInstance, scrape: () => Promise<Sample[]> }> {
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', prometheus: { registry }, ...options })
  app.get('/metrics', async (request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    scrape: async () => {
      const got = await scrape(base + '/metrics')
      t.equal(got.statusCode, 200)
      t.match(got.contentType, /^text\/plain; version=0\.0\.4/)
      return got.samples
    }
  }
}

test('health_status and health_check_status follow the state and a failing check, at scrape time', async (t) => {
  const registry = new Registry()
  const db = controlledCheck()
  const { app, scrape } = await scraped(t, registry, { checks: { db: { check: db.check, cacheFor: 0 } } })
  let samples = await scrape()
  t.same(samplesBy(samples, 'health_status', {}, 'status'), only('fail'), 'No information: fail, one series per status')
  // With metrics on, a check keeps fresh by itself from the moment the instance is ready.
  for (let tries = 0; tries < 100 && samplesBy(samples, 'health_check_status', {}, 'status').pass === undefined; tries++) samples = await scrape()
  t.same(samplesBy(samples, 'health_check_status', { check: 'db' }, 'status'), only('pass'), 'a reading with no request: the background run at ready')

  app.health.setStateWorking()
  await app.inject('/health')
  samples = await scrape()
  t.same(samplesBy(samples, 'health_status', {}, 'status'), only('pass'), 'Working: pass')
  t.same(samplesBy(samples, 'health_check_status', { check: 'db' }, 'status'), only('pass'))

  db.set('fail')
  await app.inject('/health')
  samples = await scrape()
  t.same(samplesBy(samples, 'health_status', {}, 'status'), only('fail'))
  t.same(samplesBy(samples, 'health_check_status', { check: 'db' }, 'status'), only('fail'), 'the failing check: fail == 1')

  db.set('pass')
  await app.inject('/health')
  app.health.setStateWarmUp()
  samples = await scrape()
  t.same(samplesBy(samples, 'health_status', {}, 'status'), only('warn'), 'recovered, warming up: warn')
  t.same(samplesBy(samples, 'health_check_status', { check: 'db' }, 'status'), only('pass'))
  const text = await registry.metrics()
  t.match(text, /# TYPE health_status gauge/)
  t.match(text, /# TYPE health_check_status gauge/)
  t.match(text, /# TYPE health_check_duration_seconds histogram/)
  t.notMatch(text, /it is fail/, 'never a check output')
})

test('thresholds and criticality: the status as it counts', async (t) => {
  const registry = new Registry()
  const db = controlledCheck()
  const cache = controlledCheck('fail')
  const { app, scrape } = await scraped(t, registry, {
    initialState: State.WORK,
    checks: { db: { check: db.check, cacheFor: 0, failureThreshold: 2, successThreshold: 2 }, cache: { check: cache.check, cacheFor: 0, critical: false } }
  })
  const statusOf = async (check: string): Promise<Record<string, number>> =>
    samplesBy(await scrape(), 'health_check_status', { check }, 'status')
  await app.inject('/health')
  t.same(await statusOf('cache'), only('warn'), 'a failing non-critical check counts as warn')
  db.set('fail')
  await app.inject('/health')
  t.same(await statusOf('db'), only('warn'), 'one failing reading of 2: warn')
  await app.inject('/health')
  t.same(await statusOf('db'), only('fail'), 'the second: fail')
  db.set('pass')
  await app.inject('/health')
  t.same(await statusOf('db'), only('fail'), 'one passing reading of 2: still fail')
  await app.inject('/health')
  t.same(await statusOf('db'), only('pass'), 'the second: pass')
})

test('health_check_duration_seconds: every run, by check and the reading\'s own status, in seconds', async (t) => {
  const registry = new Registry()
  const db = controlledCheck()
  const { app, scrape } = await scraped(t, registry, {
    initialState: State.WORK,
    checks: {
      db: { check: db.check, cacheFor: 0, failureThreshold: 5 },
      slow: { check: () => sleep(30).then(() => ({})), cacheFor: 0 },
      hung: { check: () => sleep(500).then(() => ({})), cacheFor: 0, timeout: 50 }
    }
  })
  await app.inject('/health')
  db.set('fail')
  await app.inject('/health')
  await app.inject('/health')
  const samples = await scrape()
  const count = (labels: Record<string, string>): number | undefined =>
    samples.find((sample) => sample.name === 'health_check_duration_seconds_count' &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value
  // The background run at ready (metrics keep checks fresh), then the first request's.
  t.ok((count({ check: 'db', status: 'pass' }) ?? 0) >= 1, 'the passing runs')
  t.equal(count({ check: 'db', status: 'fail' }), 2, 'two failing runs: the reading\'s own status, whatever the threshold')
  const sum = (check: string, status: string): number | undefined =>
    samples.find((sample) => sample.name === 'health_check_duration_seconds_sum' && sample.labels.check === check && sample.labels.status === status)?.value
  const slow = sum('slow', 'pass') as number
  t.ok(slow >= 3 * 0.029 && slow < 3 * 5, `seconds, not ms (${slow} for 3 runs of 30 ms)`)
  // One run: a check that outlives its timeout is not started again until it settles.
  t.equal(sum('hung', 'fail'), 0.05, 'a run that timed out took its timeout')
  const buckets = samples.filter((sample) => sample.name === 'health_check_duration_seconds_bucket' && sample.labels.check === 'hung')
  t.same(buckets.map((bucket) => bucket.labels.le),
    ['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf'], 'the buckets, to 10 s')
  t.equal(buckets.find((bucket) => bucket.labels.le === '0.05')?.value, 1, 'a 50 ms timeout falls in le="0.05"')
})

test('a removed check leaves the gauges; close() takes the metrics off the registry', async (t) => {
  const registry = new Registry()
  const { app, scrape } = await scraped(t, registry, { initialState: State.WORK, checks: { db: () => ({}), cache: () => ({}) } })
  await app.inject('/health')
  t.same(Object.keys(samplesBy(await scrape(), 'health_check_status', { status: 'pass' }, 'check')).sort(), ['cache', 'db'])
  app.health.removeCheck('db')
  t.same(Object.keys(samplesBy(await scrape(), 'health_check_status', { status: 'pass' }, 'check')), ['cache'], 'db is gone')
  await app.close()
  t.same(registry.getMetricsAsArray(), [], 'nothing of ours is left on the registry')

  // So that a new instance (a restart, the next test) registers on the same registry.
  const again = newApp(t)
  await again.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', prometheus: { registry } })
  await again.ready()
  t.match(await registry.metrics(), /health_status\{status="fail"\} 1/)
})

test('checks added and removed by the hundred: the histogram keeps series of the live ones only', async (t) => {
  const registry = new Registry()
  const { app, scrape } = await scraped(t, registry, { initialState: State.WORK, checks: { db: () => ({}) } })
  const histogramChecks = async (): Promise<Set<string>> => {
    const { values } = await (registry.getSingleMetric('health_check_duration_seconds') as unknown as { get: () => Promise<{ values: Array<{ labels: Record<string, string> }> }> }).get()
    return new Set(values.map(({ labels }) => labels.check))
  }
  // Names that come and go between scrapes (one per tenant, say): no scrape in between.
  for (let i = 0; i < 300; i++) {
    app.health.addCheck(`tenant-${i}`, () => ({ status: i % 3 === 0 ? 'fail' : 'pass' }), { cacheFor: 0 })
    await app.inject('/health')
    app.health.removeCheck(`tenant-${i}`)
  }
  t.ok((await histogramChecks()).size <= 64, 'swept as names came and went, with no scrape')
  const checks = (samples: Sample[]): string[] => [...new Set(samples.filter((sample) => sample.name === 'health_check_duration_seconds_count').map((sample) => sample.labels.check))]
  t.same(checks(await scrape()), ['db'], 'a scrape shows the live check alone')
  t.same([...await histogramChecks()], ['db'], 'and the histogram holds nothing else')
})

test('a registry that has the names already fails ready() with FST_HEALTH_METRIC_TAKEN, registering nothing', async (t) => {
  const registry = new Registry()
  const first = newApp(t)
  await first.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', prometheus: { registry } })
  await first.ready()
  const second = newApp(t)
  await second.register(fastifyHealth, { exposeDetails: true, serviceName: 'billing', prometheus: { registry } })
  await t.rejects(async () => { await second.ready() }, {
    code: 'FST_HEALTH_METRIC_TAKEN', message: 'fastify-health: the Prometheus registry has a metric named "health_status" already (one fastify-health instance per registry)'
  })
  t.equal(registry.getMetricsAsArray().length, 3, 'the first instance\'s three metrics, nothing more')
})

test('a registry of another copy of prom-client works (a registry takes any metric)', async (t) => {
  // A second copy of prom-client, as an app whose fastify-metrics brings its own would have.
  const scratch = await scratchDir('prom-client')
  t.teardown(scratch.remove)
  const modules = fileURLToPath(new URL('../node_modules/', import.meta.url))
  await mkdir(join(scratch.path, 'node_modules/@opentelemetry'), { recursive: true })
  await cp(join(modules, 'prom-client'), join(scratch.path, 'node_modules/prom-client'), { recursive: true })
  for (const dependency of ['tdigest', 'bintrees', '@opentelemetry/api']) {
    await symlink(join(modules, dependency), join(scratch.path, 'node_modules', dependency), 'dir')
  }
  const other = createRequire(join(scratch.path, 'index.js'))('prom-client') as { Registry: typeof Registry }
  t.not(other.Registry, Registry, 'a distinct copy')
  const registry = new other.Registry()
  const { app, scrape } = await scraped(t, registry, { initialState: State.WORK, checks: { db: () => ({ status: 'fail' }) } })
  await app.inject('/health')
  const samples = await scrape()
  t.same(samplesBy(samples, 'health_check_status', { check: 'db' }, 'status'), only('fail'))
  t.equal(samples.find((sample) => sample.name === 'health_check_duration_seconds_count')?.value, 1)
})
