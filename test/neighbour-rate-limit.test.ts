// Beside @fastify/rate-limit registered globally: an orchestrator's probes are never limited
// (a 429 on liveness restarts the instance), unless the app sets a limit on the health routes.
import rateLimit from '@fastify/rate-limit'
import { test } from 'tap'
import { besideApp, expectHealthAnswer, healthRoutes, schemaErrors } from './helpers.js'

const checks = { db: () => ({ componentType: 'datastore', observedValue: 1, observedUnit: 'ms' }) }
// A tiny global limit, and a bounded burst well past it.
const MAX = 3
const BURST = 12

test('a global limit leaves the health routes alone while it limits the app', async (t) => {
  const { base } = await besideApp(t, {
    before: (app) => app.register(rateLimit, { global: true, max: MAX, timeWindow: 60_000 }),
    options: { checks },
    after: (app) => { app.get('/work', async () => ({ ok: true })) }
  })
  const work: number[] = []
  for (let i = 0; i < BURST; i++) work.push((await fetch(`${base}/work`)).status)
  t.same(work, [...Array(MAX).fill(200), ...Array(BURST - MAX).fill(429)], 'the app\'s route is limited')

  for (const url of healthRoutes) {
    for (let i = 0; i < BURST; i++) {
      const got = await expectHealthAnswer(t, base + url, 200, { method: i % 2 === 0 ? 'GET' : 'HEAD' })
      t.equal(got.headers.get('x-ratelimit-limit'), null, `${url}: no rate-limit headers`)
    }
  }
})

test('a limit of the app\'s own on the health routes takes effect through routeOptions.config', async (t) => {
  const { base } = await besideApp(t, {
    before: (app) => app.register(rateLimit, { global: true, max: 100, timeWindow: 60_000 }),
    options: { checks, routeOptions: { config: { rateLimit: { max: 2, timeWindow: 60_000 } } } }
  })
  for (const url of healthRoutes) {
    for (let i = 0; i < 2; i++) {
      const got = await expectHealthAnswer(t, base + url, 200)
      t.equal(got.headers.get('x-ratelimit-limit'), '2', `${url}: the route's own limit`)
    }
    const limited = await fetch(base + url)
    t.equal(limited.status, 429, `${url}: limited past its own max`)
    const body = await limited.json()
    t.match(body, { statusCode: 429 }, 'rate-limit\'s own answer, as the app asked')
    t.not(schemaErrors(body).length, 0, 'not a health document')
  }
})

test('routeOptions.config with rateLimit undefined puts the health routes under the global limit', async (t) => {
  const { base } = await besideApp(t, {
    before: (app) => app.register(rateLimit, { global: true, max: MAX, timeWindow: 60_000 }),
    options: { routeOptions: { config: { rateLimit: undefined } } }
  })
  const codes: number[] = []
  for (let i = 0; i < MAX; i++) codes.push((await expectHealthAnswer(t, `${base}/health/live`, 200)).statusCode)
  codes.push((await fetch(`${base}/health/live`)).status)
  t.same(codes, [200, 200, 200, 429], 'the global limit applies')
})
