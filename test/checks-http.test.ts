import { test, type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type FastifyHealthOptions, HEALTH_CONTENT_TYPE, type HealthResponse, State } from '../lib/index.js'
import { loggedApp, schemaErrors } from './helpers.js'

// The key behaviours of the checks over a real listening server (127.0.0.1, a free port) and fetch.

const STACK_FRAME = /\bat (?:async )?(?:\S+ \()?(?:file:\/\/|\/|node:)[^\s)"]*:\d+:\d+/
const identity = {
  serviceName: 'orders',
  version: '2',
  releaseId: '2.3.1-abc',
  description: 'The orders service'
} as const
const NOTES_WORKING = ['Service is running']

interface Fetched {
  statusCode: number
  body: HealthResponse
}

/** Listens with the plugin (Working) and returns a function that GETs a path and checks the answer. */
async function serve (
  t: Test, options: Partial<FastifyHealthOptions> = {}, app: FastifyInstance = Fastify()
): Promise<(path?: string, headers?: Record<string, string>) => Promise<Fetched>> {
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { ...identity, initialState: State.WORK, exposeDetails: true, ...options })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
  return async (path = '/health', headers = {}) => {
    const res = await fetch(base + path, { headers })
    const text = await res.text()
    t.equal(res.headers.get('content-type'), HEALTH_CONTENT_TYPE, `${path}: content type`)
    t.notMatch(text, STACK_FRAME, `${path}: no stack frame`)
    const body = JSON.parse(text) as HealthResponse
    t.same(schemaErrors(body), [], `${path}: the body matches the schema`)
    return { statusCode: res.status, body }
  }
}

test('a hanging check: the answer arrives, saying it timed out', async (t) => {
  const signals: AbortSignal[] = []
  const get = await serve(t, {
    checks: { 'payments:responseTime': { check: (signal) => { signals.push(signal); return new Promise(() => {}) }, timeout: 50 } }
  })
  const got = await get()
  t.equal(got.statusCode, 503)
  t.equal(got.body.status, 'fail')
  t.match(got.body.checks?.['payments:responseTime'], [{ status: 'fail', output: 'Timed out after 50 ms', time: String }])
  t.equal(got.body.output, 'payments:responseTime: fail (Timed out after 50 ms)')
  t.ok(signals[0]?.aborted, 'the check was told to stop')
  const ready = await get('/health/ready')
  t.equal(ready.statusCode, 503, 'readiness fails too')
})

test('a failing check answers 503', async (t) => {
  const get = await serve(t, { checks: { 'postgres:connections': () => { throw new Error('too many clients') } } })
  const got = await get()
  t.equal(got.statusCode, 503)
  t.match(got.body, {
    status: 'fail',
    output: 'postgres:connections: fail (Error: too many clients)',
    checks: { 'postgres:connections': [{ status: 'fail', output: 'Error: too many clients' }] }
  })
  t.equal((await get('/health/ready')).statusCode, 503)
  t.equal((await get('/health/live')).statusCode, 200)
})

test('a failing non-critical check answers 202', async (t) => {
  const get = await serve(t, { checks: { 'mail:responseTime': { check: async () => ({ status: 'down' }), critical: false } } })
  const got = await get()
  t.equal(got.statusCode, 202)
  t.equal(got.body.status, 'warn')
  t.equal(got.body.checks?.['mail:responseTime']?.[0]?.status, 'fail')
  const ready = await get('/health/ready')
  t.equal(ready.statusCode, 200, 'the service stays ready')
  t.equal(ready.body.status, 'warn')
})

test('passing checks answer 200', async (t) => {
  const get = await serve(t, { checks: { db: () => ({ componentType: 'datastore', observedValue: 2, observedUnit: 'ms' }) } })
  const got = await get()
  t.equal(got.statusCode, 200)
  t.match(got.body, { status: 'pass', checks: { db: [{ status: 'pass', observedValue: 2 }] } })
  t.notOk('output' in got.body)
})

/** What an answer keeps when the details are hidden, for the failing service below. */
function assertBrief (t: Test, got: Fetched, label: string): void {
  t.equal(got.statusCode, 503, `${label}: the code is kept`)
  t.same(got.body, {
    status: 'fail',
    version: identity.version,
    releaseId: identity.releaseId,
    notes: ['Service is running, but checks fail'],
    output: '1 check failing',
    serviceId: identity.serviceName,
    description: identity.description
  }, `${label}: status, identity, and an output that names no check`)
  t.notOk('checks' in got.body, `${label}: no checks`)
}

function assertDetailed (t: Test, got: Fetched, label: string): void {
  t.equal(got.statusCode, 503, `${label}: the code`)
  t.match(got.body, {
    status: 'fail',
    version: identity.version,
    releaseId: identity.releaseId,
    notes: NOTES_WORKING,
    serviceId: identity.serviceName,
    description: identity.description,
    output: 'db: fail (Error: secret-host:5432 refused)',
    checks: { db: [{ status: 'fail', output: 'Error: secret-host:5432 refused' }] }
  }, `${label}: with details`)
}

const failingDb = { db: () => { throw new Error('secret-host:5432 refused') } }

test('exposeDetails', async (t) => {
  t.test('true (the default) shows checks and output', async (t) => {
    const get = await serve(t, { checks: failingDb })
    assertDetailed(t, await get(), 'default')
  })

  t.test('false hides checks and what they said, keeps status, code and identity', async (t) => {
    const get = await serve(t, { checks: failingDb, exposeDetails: false })
    assertBrief(t, await get(), '/health')
    const ready = await get('/health/ready')
    t.equal(ready.statusCode, 503)
    t.same(Object.keys(ready.body).sort(), ['description', 'notes', 'output', 'releaseId', 'serviceId', 'status', 'version'])
    t.equal(ready.body.status, 'fail')
  })

  t.test('false with no identity configured keeps just status, notes, a nameless output and serviceId', async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(fastifyHealth, { serviceName: 'bare', initialState: State.WORK, checks: failingDb, exposeDetails: false })
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const res = await fetch(`${base}/health`)
    const body = await res.json() as HealthResponse
    t.same(schemaErrors(body), [])
    t.equal(res.status, 503)
    t.same(body, { status: 'fail', notes: ['Service is running, but checks fail'], output: '1 check failing', serviceId: 'bare' })
  })

  t.test('a function decides per request', async (t) => {
    const seen: string[] = []
    const get = await serve(t, {
      checks: failingDb,
      exposeDetails: (request) => {
        seen.push(request.url)
        return request.headers['x-health-details'] === 'yes'
      }
    })
    assertDetailed(t, await get('/health', { 'x-health-details': 'yes' }), 'with the header')
    assertBrief(t, await get('/health'), 'without the header')
    assertBrief(t, await get('/health', { 'x-health-details': 'no' }), 'with another value')
    const ready = await get('/health/ready', { 'x-health-details': 'yes' })
    t.ok(ready.body.checks?.db, 'probes follow the same decision')
    t.same(seen, ['/health', '/health', '/health', '/health/ready'], 'called with each request')
  })

  t.test('only true shows the details: truthy values do not', async (t) => {
    const get = await serve(t, { checks: failingDb, exposeDetails: (() => 'yes') as never })
    assertBrief(t, await get(), 'truthy string')
  })

  t.test('a throwing function hides the details and is logged', async (t) => {
    const { app, lines } = loggedApp()
    const get = await serve(t, {
      checks: failingDb,
      exposeDetails: () => { throw new Error('auth service down') }
    }, app)
    assertBrief(t, await get(), 'throwing decider')
    const warning = lines.find((line) => line.msg === 'fastify-health: exposeDetails threw; details hidden')
    t.ok(warning, 'logged')
    t.equal(warning?.level, 40, 'as a warning')
    t.equal(warning?.error, 'Error: auth service down', 'the message only, with no stack')
  })

  t.test('details hidden on a passing service: the same answer as with details', async (t) => {
    const get = await serve(t, { checks: { db: () => undefined }, exposeDetails: false })
    const got = await get()
    t.equal(got.statusCode, 200)
    t.same(got.body, {
      status: 'pass', version: '2', releaseId: '2.3.1-abc', notes: NOTES_WORKING, serviceId: 'orders', description: 'The orders service'
    })
  })
})
