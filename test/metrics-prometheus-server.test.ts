// End to end: a real Prometheus server scrapes the app's /metrics route (the `prometheus`
// option on a prom-client registry) every second, and a PromQL query over its HTTP API sees the
// failing check, then its recovery.
import { Registry } from 'prom-client'
import t from 'tap'
import fastifyHealth, { State } from '../lib/index.js'
import { controlledCheck, newApp } from './helpers.js'
import { waitFor } from './servers/common.js'
import { startPrometheus } from './servers/prometheus.js'

// Starting Prometheus and waiting for its scrapes take a while.
t.setTimeout(300_000)

t.test('Prometheus sees health_check_status{check="db",status="fail"} == 1, then the recovery', async (t) => {
  const registry = new Registry()
  const db = controlledCheck('fail')
  const app = newApp(t)
  // In the background, so that the check runs whether or not /health is asked.
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, prometheus: { registry }, checks: { db: { check: db.check, interval: 200 } } })
  app.get('/metrics', async (request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const prometheus = await startPrometheus(new URL(address).host)
  t.teardown(prometheus.stop)

  const failing = 'health_check_status{check="db",status="fail"}'
  const seen = await waitFor('Prometheus to scrape the failing check', async () => {
    const result = await prometheus.query(failing)
    return result.length === 1 && result[0]?.value === 1 ? result[0] : undefined
  }, 60_000, 250)
  t.match(seen.metric, { __name__: 'health_check_status', check: 'db', status: 'fail', job: 'orders' }, 'the series, with the scrape\'s job label')
  t.same(await prometheus.query('health_status{status="fail"} == 1').then((result) => result.length), 1, 'the overall status: fail')

  db.set('pass')
  await waitFor('Prometheus to scrape the recovery', async () => (await prometheus.query(`${failing} == 0`)).length === 1, 60_000, 250)
  const statuses = await prometheus.query('health_check_status{check="db"}')
  t.same(Object.fromEntries(statuses.map(({ metric, value }) => [metric.status, value])), { pass: 1, warn: 0, fail: 0 }, 'passing: pass 1, the others 0')
  const runs = await prometheus.query('sum(health_check_duration_seconds_count{check="db"})')
  t.ok((runs[0]?.value ?? 0) >= 2, `the runs counted (${String(runs[0]?.value)})`)
})
