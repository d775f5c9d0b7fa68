// The same rule files on the `openTelemetry` option's figures: a real Prometheus scrapes the
// OpenTelemetry Prometheus exporter (its own names: labels health_status and health_check_name,
// the histogram health_check_duration) and the shipped rules, unchanged but for short `for:`,
// record the same series and fire the same alert as on prom-client's figures.
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import t from 'tap'
import { testRules } from './monitoring.js'
import { fleetApp } from './monitoring-fleet.js'
import { startAlertingPrometheus } from './servers/alertmanager.js'
import { freePort, waitFor } from './servers/common.js'

t.setTimeout(120_000)

const JOB = 'shop'
const TIMEOUT = 30_000

t.test('the OpenTelemetry exporter\'s series through the shipped rules: recorded, then alerting', async (t) => {
  const port = await freePort()
  const exporter = await new Promise<PrometheusExporter>((resolve, reject) => {
    const started: PrometheusExporter = new PrometheusExporter({ host: '127.0.0.1', port }, (error) => error === undefined ? resolve(started) : reject(error))
  })
  const provider = new MeterProvider({ readers: [exporter] })
  t.teardown(() => provider.shutdown())
  const app = await fleetApp(t, async () => ({ openTelemetry: { meterProvider: provider } }))
  const instance = `127.0.0.1:${port}`
  const prometheus = await startAlertingPrometheus({ jobs: { [JOB]: [instance] }, rules: testRules() })
  t.teardown(prometheus.stop)

  const raw = await waitFor('the exporter\'s series scraped', async () => {
    const found = await prometheus.query(`health_check_status{job="${JOB}",health_check_name="db"}`)
    return found.length === 3 ? found : undefined
  }, TIMEOUT, 250)
  t.same(raw.map(({ metric }) => metric.health_status).sort(), ['fail', 'pass', 'warn'], 'the exporter\'s labels: health_check_name, health_status')
  // Exporters that add the unit's suffix name it health_check_duration_seconds: the rules read both.
  const histogram = await prometheus.query(`{__name__=~"health_check_duration(_seconds)?_bucket",job="${JOB}"}`)
  t.ok(histogram.length > 0, `its histogram: ${String(histogram[0]?.metric.__name__)}`)

  app.db('fail')
  const alert = await waitFor('FastifyHealthCheckFailing firing on the exporter\'s series', async () => {
    const firing = await prometheus.query(`ALERTS{alertname="FastifyHealthCheckFailing",alertstate="firing",job="${JOB}"}`)
    return firing[0]
  }, TIMEOUT, 250)
  t.match(alert.metric, { instance, check: 'db', service: JOB, severity: 'warning' }, 'the alert names the instance and the check')
  t.same((await prometheus.query(`instance:health_status:state{job="${JOB}"} == 1`)).map(({ metric }) => metric.status), ['fail'], 'the overall status, recorded')
  t.same((await prometheus.query(`job_check:health_check_failing:ratio{job="${JOB}",check="db"}`)).map(({ value }) => value), [1], 'the failing share, recorded')
  t.equal((await prometheus.query(`instance_check:health_check_duration_seconds:p95_5m{job="${JOB}",check="db"}`)).length, 1, 'the p95 duration, recorded')
  t.same(app.requested, [], 'no request reached the app')
})
