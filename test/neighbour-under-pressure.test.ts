// Beside @fastify/under-pressure, really under pressure: its onRequest hook answers 503 with its
// own body to every route, but the health routes keep answering health+json, and with its
// check (autoChecks, or underPressureCheck) readiness fails in the draft's format while liveness
// holds (an overloaded instance must leave the rotation, not be restarted).
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { underPressureCheck } from '../lib/checks/index.js'
import { besideApp, blockEventLoop, CONTENT_TYPE, expectHealthAnswer, healthRoutes, schemaErrors } from './helpers.js'
import { waitFor } from './servers/common.js'

const checks = { db: () => undefined }
const work = (app: FastifyInstance): void => { app.get('/work', async () => ({ ok: true })) }

/** Under-pressure's own answer to an app's route: 503, its body, Retry-After. */
async function expectShed (t: Test, url: string): Promise<void> {
  const res = await fetch(url)
  const body = await res.json()
  t.equal(res.status, 503, `${new URL(url).pathname}: under-pressure's 503`)
  t.equal(body.code, 'FST_UNDER_PRESSURE', 'its own body')
  t.equal(res.headers.get('retry-after'), '10', 'and its Retry-After')
}

test('over the heap limit: the app shed, every health route still health+json', async (t) => {
  const { app, base } = await besideApp(t, {
    before: (app) => app.register(underPressure, { maxHeapUsedBytes: 1, sampleInterval: 10 }),
    options: { checks },
    after: work
  })
  await waitFor('under pressure', () => app.isUnderPressure(), 5_000, 10)
  await expectShed(t, `${base}/work`)
  // No check of the pressure: the routes are only let through.
  for (const url of healthRoutes) {
    await expectHealthAnswer(t, base + url, 200)
    await expectHealthAnswer(t, base + url, 200, { method: 'HEAD' })
  }
})

test('with autoChecks, readiness and the document fail in health+json; liveness and startup hold', async (t) => {
  const { app, base } = await besideApp(t, {
    before: (app) => app.register(underPressure, { maxHeapUsedBytes: 1, sampleInterval: 10 }),
    options: { checks, autoChecks: true },
    after: work
  })
  await waitFor('under pressure', () => app.isUnderPressure(), 5_000, 10)
  await expectShed(t, `${base}/work`)
  const expected: Record<string, number> = {
    '/health': 503, '/health/ready': 503, '/health/live': 200, '/health/started': 200, '/health/checks/underPressure:pressure': 503
  }
  for (const [url, code] of Object.entries(expected)) {
    const got = await expectHealthAnswer(t, base + url, code)
    await expectHealthAnswer(t, base + url, code, { method: 'HEAD' })
    if (url === '/health/live' || url === '/health/started') continue
    const entries = (got.body as { checks: Record<string, Array<{ componentId: string, status: string }>> }).checks['underPressure:pressure']
    t.match(entries, [{ componentId: 'eventLoop:delay', status: 'fail' }, { componentId: 'eventLoop:utilization' }, { componentId: 'memory:heapUsed' }, { componentId: 'memory:rss' }],
      `${url}: the figures, failing`)
  }
})

test('routeOptions.config.pressureHandler undefined hands the health routes to under-pressure', async (t) => {
  const { app, base } = await besideApp(t, {
    before: (app) => app.register(underPressure, { maxHeapUsedBytes: 1, sampleInterval: 10 }),
    options: { routeOptions: { config: { pressureHandler: undefined } } }
  })
  await waitFor('under pressure', () => app.isUnderPressure(), 5_000, 10)
  const res = await fetch(`${base}/health/live`)
  const body = await res.json()
  t.equal(res.status, 503, 'under-pressure\'s 503, as the app asked')
  t.not(schemaErrors(body).length, 0, 'not a health document')
})

test('a blocked event loop: readiness fails through underPressureCheck, then recovers', async (t) => {
  const { app, base } = await besideApp(t, {
    before: (app) => app.register(underPressure, { maxEventLoopDelay: 20, sampleInterval: 100 }),
    after: (app) => {
      // cacheFor 0: every probe reads the plugin's latest verdict.
      app.health.addCheck('underPressure:pressure', underPressureCheck(app), { cacheFor: 0 })
      work(app)
    }
  })
  await expectHealthAnswer(t, `${base}/health/ready`, 200)
  const stop = blockEventLoop(t, { busyMs: 80, everyMs: 100, times: 100 })
  await waitFor('under pressure', () => app.isUnderPressure(), 10_000, 10)
  // Polled, not one probe: between the blocking bursts a sample of under-pressure's may find the
  // loop free for a moment, and a probe landing then reads that verdict.
  // The failing answer itself is the one asserted on.
  const ready = await waitFor('readiness to fail under pressure', async () => {
    const res = await fetch(`${base}/health/ready`)
    const text = await res.text()
    return res.status === 503 ? { contentType: res.headers.get('content-type'), text } : undefined
  }, 10_000, 10)
  t.equal(ready.contentType, CONTENT_TYPE, 'readiness: health+json')
  const body = JSON.parse(ready.text)
  t.same(schemaErrors(body), [], 'readiness: valid by both schemas')
  t.match(body, { status: 'fail', output: /underPressure:pressure/ })
  await expectHealthAnswer(t, `${base}/health/live`, 200)
  stop()
  await waitFor('no longer under pressure', () => !app.isUnderPressure(), 10_000, 20)
  await expectHealthAnswer(t, `${base}/health/ready`, 200)
  t.equal((await fetch(`${base}/work`)).status, 200, 'the app serves again')
})
