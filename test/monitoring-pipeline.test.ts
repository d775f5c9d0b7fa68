// The shipped rules and dashboard end to end, on loopback: three real Fastify apps with the
// plugin and prom-client → a real Prometheus loading monitoring/'s rules (a test copy with short
// `for:` durations) and scraping every second → a real Alertmanager → a webhook receiver here.
// Nobody requests a health route: the checks run in the background, and the figures come from
// the scrapes alone.
import { Registry } from 'prom-client'
import t from 'tap'
import { dashboard, panelQueries, testRules, variableQueries, withVariables } from './monitoring.js'
import { fleetApp, type FleetApp } from './monitoring-fleet.js'
import { type ReceivedAlert, startAlertingPrometheus, startAlertmanager, startWebhookReceiver } from './servers/alertmanager.js'
import { waitFor } from './servers/common.js'

// Three servers to start and five alerts to wait for; each wait is bounded on its own.
t.setTimeout(150_000)

const JOB = 'orders'
/** How long an alert may take: a scrape, two evaluations, the `for:`, Alertmanager's group wait. */
const ALERT_TIMEOUT = 30_000

const is = (alert: ReceivedAlert, status: ReceivedAlert['status'], alertname: string, labels: Record<string, string>): boolean =>
  alert.status === status && alert.labels.alertname === alertname && Object.entries(labels).every(([key, value]) => alert.labels[key] === value)

t.test('rules and dashboard on a real Prometheus, Alertmanager and three apps', async (t) => {
  const apps: FleetApp[] = []
  for (let i = 0; i < 3; i++) {
    const registry = new Registry()
    apps.push(await fleetApp(t, async (app) => {
      app.get('/metrics', async (request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
      return { prometheus: { registry } }
    }))
  }
  const [first, second, third] = apps as [FleetApp, FleetApp, FleetApp]
  const receiver = await startWebhookReceiver()
  t.teardown(receiver.close)
  const alertmanager = await startAlertmanager(receiver.url)
  t.teardown(alertmanager.stop)
  const prometheus = await startAlertingPrometheus({
    jobs: { [JOB]: apps.map(({ instance }) => instance) }, rules: testRules(), alertmanager: new URL(alertmanager.base).host
  })
  t.teardown(prometheus.stop)

  await waitFor('the three instances passing, from the recording rules', async () =>
    (await prometheus.query(`job:health_status_passing:ratio{job="${JOB}"} == 1`)).length === 1 &&
    (await prometheus.query('instance_check:health_check_status:state{check="db",status="pass"} == 1')).length === 3, ALERT_TIMEOUT, 250)

  await t.test('a critical check failing on one instance: its alert arrives, then resolves', async (t) => {
    const labels = { service: JOB, job: JOB, instance: first.instance, check: 'db', severity: 'warning' }
    first.db('fail')
    // A failing non-critical check counts as warn: no alert names it.
    first.cache('fail')
    const firing = await receiver.waitForAlert('FastifyHealthCheckFailing firing', (alert) => is(alert, 'firing', 'FastifyHealthCheckFailing', labels), ALERT_TIMEOUT)
    t.match(firing.annotations, {
      summary: `Check db fails on instance ${first.instance} of service ${JOB}`,
      description: new RegExp(`^Service ${JOB}, instance ${first.instance.replaceAll('.', '\\.')}: the critical check db`)
    }, 'summary and description name the service, instance and check')
    t.same(await prometheus.query('ALERTS{alertname="FastifyHealthCheckFailing",check="cache"}'), [], 'no alert for the non-critical check')
    t.same((await prometheus.query(`instance_check:health_check_status:state{instance="${first.instance}",check="cache"} == 1`)).map(({ metric }) => metric.status),
      ['warn'], 'the non-critical check counts as warn')

    first.db('pass')
    first.cache('pass')
    await receiver.waitForAlert('FastifyHealthCheckFailing resolved', (alert) => is(alert, 'resolved', 'FastifyHealthCheckFailing', labels), ALERT_TIMEOUT)
    t.notOk(receiver.received.some((alert) => is(alert, 'firing', 'FastifyHealthCheckFailingFleetWide', {})), 'one instance of three: no fleet alert')
  })

  await t.test('the check failing on two of three instances: the fleet alert pages', async (t) => {
    first.db('fail')
    second.db('fail')
    const fleet = await receiver.waitForAlert('FastifyHealthCheckFailingFleetWide firing',
      (alert) => is(alert, 'firing', 'FastifyHealthCheckFailingFleetWide', { service: JOB, job: JOB, check: 'db', severity: 'page' }), ALERT_TIMEOUT)
    t.match(fleet.annotations.description, `Instances: ${[first.instance, second.instance].sort().join(', ')}.`, 'the failing instances listed')
    t.match(fleet.annotations.summary, /66\.67% of the instances/, 'the share of instances failing')

    // While the alerts fire and the apps run: every query of the dashboard finds series.
    const board = dashboard()
    for (const { where, expr } of panelQueries(board)) {
      const series = await prometheus.query(withVariables(expr, { job: JOB, instance: '.*', check: '.*' }))
      t.ok(series.length > 0, `${where}: ${series.length} series`)
    }
    for (const { name, selector, label } of variableQueries(board)) {
      const series = await prometheus.query(withVariables(selector, { job: JOB, instance: '.*' }))
      const values = [...new Set(series.map(({ metric }) => metric[label]).filter((value) => value !== undefined))]
      t.ok(values.length > 0, `variable ${name}: ${values.join(', ')}`)
    }
    first.db('pass')
    second.db('pass')
  })

  await t.test('an instance stopped: its "stopped exporting" alert fires', async (t) => {
    await third.close()
    const stopped = await receiver.waitForAlert('FastifyHealthStoppedExporting firing',
      (alert) => is(alert, 'firing', 'FastifyHealthStoppedExporting', { service: JOB, job: JOB, instance: third.instance }), ALERT_TIMEOUT)
    t.match(stopped.annotations.description, /\(the scrape fails\)/, 'the scrape fails')
  })

  t.same(apps.flatMap(({ requested }) => requested).filter((url) => !url.startsWith('/metrics')), [], 'only /metrics was requested from the apps')
})
