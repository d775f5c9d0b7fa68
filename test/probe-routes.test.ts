import { test, type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type ComponentDetail, type FastifyHealthOptions, State } from '../lib/index.js'
import { CONTENT_TYPE, schemaErrors } from './helpers.js'

// Spelled out, not the library's constant: the tests must catch a change of it.

type Transport = 'inject' | 'server'
type Method = 'GET' | 'HEAD'

interface Probed {
  statusCode: number
  contentType: string | undefined
  /** The raw body: empty for HEAD. */
  text: string
}

const transports: Transport[] = ['inject', 'server']
const methods: Method[] = ['GET', 'HEAD']
const probes = ['live', 'ready', 'started'] as const
type Probe = typeof probes[number]

/** An instance with the plugin; `server` listens on 127.0.0.1 on a free port. */
async function build (
  t: Test, transport: Transport, options: Partial<FastifyHealthOptions> = {}
): Promise<{ app: FastifyInstance, call: (method: Method, url: string) => Promise<Probed> }> {
  const app = Fastify()
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', ...options })
  t.teardown(() => app.close())
  if (transport === 'inject') {
    await app.ready()
    return {
      app,
      async call (method, url) {
        const res = await app.inject({ method, url })
        return { statusCode: res.statusCode, contentType: res.headers['content-type'] as string | undefined, text: res.body }
      }
    }
  }
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    async call (method, url) {
      const res = await fetch(base + url, { method })
      return { statusCode: res.status, contentType: res.headers.get('content-type') ?? undefined, text: await res.text() }
    }
  }
}

/**
 * Asserts one probe answer over GET and HEAD: the code, the content type, a body that the
 * schema accepts with the expected status (GET), and no body with the same code (HEAD).
 */
async function expectProbe (
  t: Test, call: (method: Method, url: string) => Promise<Probed>, url: string,
  statusCode: number, status: 'pass' | 'warn' | 'fail', label: string
): Promise<Record<string, unknown>> {
  const got = await call('GET', url)
  t.equal(got.statusCode, statusCode, `${label}: GET ${url} answers ${statusCode}`)
  t.equal(got.contentType, CONTENT_TYPE, `${label}: GET ${url} content type`)
  const body = JSON.parse(got.text) as Record<string, unknown>
  t.same(schemaErrors(body), [], `${label}: GET ${url} body matches the schema`)
  t.equal(body.status, status, `${label}: GET ${url} status ${status}`)
  t.equal(body.serviceId, 'orders', `${label}: GET ${url} serviceId`)

  const head = await call('HEAD', url)
  t.equal(head.statusCode, statusCode, `${label}: HEAD ${url} answers ${statusCode}`)
  t.equal(head.contentType, CONTENT_TYPE, `${label}: HEAD ${url} content type`)
  t.equal(head.text, '', `${label}: HEAD ${url} has no body`)
  return body
}

async function expectMissing (
  t: Test, call: (method: Method, url: string) => Promise<Probed>, url: string, label: string
): Promise<void> {
  for (const method of methods) {
    const got = await call(method, url)
    t.equal(got.statusCode, 404, `${label}: ${method} ${url} is not a route`)
  }
}

const code = (ok: boolean): number => ok ? 200 : 503
const statusOf = (ok: boolean): 'pass' | 'fail' => ok ? 'pass' : 'fail'

for (const transport of transports) {
  test(`probes follow the state (${transport})`, async (t) => {
    const { app, call } = await build(t, transport)
    // [label, state to set (undefined: the initial one), live, ready, started]
    const steps: Array<[string, State | undefined, boolean, boolean, boolean]> = [
      ['initial No information', undefined, true, false, false],
      ['Warming up', State.WARMUP, true, false, false],
      ['No information before start', State.NOINFO, true, false, false],
      ['Working', State.WORK, true, true, true],
      ['Warming up after Working', State.WARMUP, true, false, true],
      ['No information after Working', State.NOINFO, true, false, true],
      ['Working again', State.WORK, true, true, true],
      ['Shutting down', State.SHUTDOWN, true, false, true]
    ]
    for (const [label, state, live, ready, started] of steps) {
      if (state !== undefined) app.health.setState(state)
      t.equal(app.health.state, state ?? State.NOINFO, `${label}: state`)
      const expected: Record<Probe, boolean> = { live, ready, started }
      for (const probe of probes) {
        const body = await expectProbe(t, call, `/health/${probe}`, code(expected[probe]), statusOf(expected[probe]), label)
        if (!expected[probe]) {
          t.match(body.output, `Service state: ${app.health.state}`, `${label}: /health/${probe} says why`)
        } else {
          t.notOk('output' in body, `${label}: /health/${probe} has no output when passing`)
        }
      }
    }
  })

  test(`started is 200 from the start with initialState Working (${transport})`, async (t) => {
    const { app, call } = await build(t, transport, { initialState: State.WORK })
    await expectProbe(t, call, '/health/started', 200, 'pass', 'initial Working')
    await expectProbe(t, call, '/health/ready', 200, 'pass', 'initial Working')
    app.health.setStateShutDown()
    await expectProbe(t, call, '/health/started', 200, 'pass', 'Shutting down')
    await expectProbe(t, call, '/health/ready', 503, 'fail', 'Shutting down')
    await expectProbe(t, call, '/health/live', 200, 'pass', 'Shutting down')
  })

  test(`checks count for the probes they are marked for (${transport})`, async (t) => {
    const failing = { live: false, ready: false, both: false, soft: false }
    const reading = (name: keyof typeof failing) => (): ComponentDetail =>
      failing[name] ? { status: 'fail', output: `${name} is broken` } : { status: 'pass' }
    const { app, call } = await build(t, transport, {
      initialState: State.WORK,
      checks: {
        'heart:beat': { check: reading('live'), probes: ['live'], cacheFor: 0 },
        'db:connections': { check: reading('ready'), cacheFor: 0 },
        'disk:free': { check: reading('both'), probes: ['live', 'ready'], cacheFor: 0 },
        'cache:hitRatio': { check: reading('soft'), critical: false, cacheFor: 0 }
      }
    })

    // A request serves the last reading while a stale one refreshes (within cacheFor + timeout):
    // after a change, let one refresh of every check run before asserting. The checks are
    // synchronous, so their runs settle before the next macrotask.
    const set = async (name: keyof typeof failing, value: boolean): Promise<void> => {
      failing[name] = value
      await app.health.report()
      await new Promise((resolve) => setImmediate(resolve))
    }

    let body = await expectProbe(t, call, '/health/live', 200, 'pass', 'all pass')
    t.same(Object.keys(body.checks as object).sort(), ['disk:free', 'heart:beat'], 'live shows the checks marked live')
    body = await expectProbe(t, call, '/health/ready', 200, 'pass', 'all pass')
    t.same(Object.keys(body.checks as object).sort(), ['cache:hitRatio', 'db:connections', 'disk:free'],
      'ready shows the default checks and those marked ready')
    body = await expectProbe(t, call, '/health/started', 200, 'pass', 'all pass')
    t.notOk('checks' in body, 'started counts no check')

    await set('live', true)
    body = await expectProbe(t, call, '/health/live', 503, 'fail', 'liveness check fails')
    t.match(body.output, 'heart:beat: fail (live is broken)')
    t.equal((body.checks as Record<string, Array<{ status: string }>>)['heart:beat'][0].status, 'fail')
    await expectProbe(t, call, '/health/ready', 200, 'pass', 'liveness check fails')
    await expectProbe(t, call, '/health/started', 200, 'pass', 'liveness check fails')
    await set('live', false)
    await expectProbe(t, call, '/health/live', 200, 'pass', 'liveness check recovered')

    await set('ready', true)
    body = await expectProbe(t, call, '/health/ready', 503, 'fail', 'default check fails')
    t.match(body.output, 'db:connections: fail (ready is broken)')
    await expectProbe(t, call, '/health/live', 200, 'pass', 'default check fails')
    await expectProbe(t, call, '/health/started', 200, 'pass', 'default check fails')
    await set('ready', false)

    await set('both', true)
    await expectProbe(t, call, '/health/live', 503, 'fail', 'check marked live and ready fails')
    await expectProbe(t, call, '/health/ready', 503, 'fail', 'check marked live and ready fails')
    await set('both', false)

    await set('soft', true)
    body = await expectProbe(t, call, '/health/ready', 200, 'warn', 'non-critical ready check fails')
    t.match(body.output, 'cache:hitRatio: fail (soft is broken)')
    t.same(body.notes, ['Service is ready, with warnings'])
    await expectProbe(t, call, '/health/live', 200, 'pass', 'non-critical ready check fails')

    // A failing check does not make a state that is not ready any more ready, nor less.
    app.health.setStateShutDown()
    body = await expectProbe(t, call, '/health/ready', 503, 'fail', 'Shutting down with a warning')
    t.match(body.output, 'Service state: Shutting down')
  })

  test(`a non-critical liveness check only warns (${transport})`, async (t) => {
    const { call } = await build(t, transport, {
      checks: { 'gc:pause': { check: () => ({ status: 'fail', output: 'slow' }), probes: ['live'], critical: false } }
    })
    const body = await expectProbe(t, call, '/health/live', 200, 'warn', 'non-critical liveness check fails')
    t.same(body.notes, ['Service is alive, with warnings'])
  })

  test(`probe paths are configurable (${transport})`, async (t) => {
    const { app, call } = await build(t, transport, { probes: { live: '/livez', ready: '/readyz', started: '/startz' } })
    await expectProbe(t, call, '/livez', 200, 'pass', 'custom paths')
    await expectProbe(t, call, '/readyz', 503, 'fail', 'custom paths')
    await expectProbe(t, call, '/startz', 503, 'fail', 'custom paths')
    app.health.setStateWorking()
    await expectProbe(t, call, '/readyz', 200, 'pass', 'custom paths, Working')
    await expectProbe(t, call, '/startz', 200, 'pass', 'custom paths, Working')
    for (const probe of probes) await expectMissing(t, call, `/health/${probe}`, 'custom paths')
    // The health document itself stays where it was.
    t.equal((await call('GET', '/health')).statusCode, 200)
  })

  test(`probes follow the path option (${transport})`, async (t) => {
    const { call } = await build(t, transport, { path: '/status', initialState: State.WORK })
    for (const probe of probes) await expectProbe(t, call, `/status/${probe}`, 200, 'pass', 'path /status')
    for (const probe of probes) await expectMissing(t, call, `/health/${probe}`, 'path /status')
  })

  test(`probes: false turns them all off (${transport})`, async (t) => {
    const { call } = await build(t, transport, { probes: false, initialState: State.WORK })
    for (const probe of probes) await expectMissing(t, call, `/health/${probe}`, 'probes: false')
    const health = await call('GET', '/health')
    t.equal(health.statusCode, 200, 'the health document is still served')
    t.same(schemaErrors(JSON.parse(health.text)), [])
  })

  test(`probes: { started: false } turns one off (${transport})`, async (t) => {
    const { app, call } = await build(t, transport, { probes: { started: false } })
    await expectMissing(t, call, '/health/started', 'started: false')
    await expectProbe(t, call, '/health/live', 200, 'pass', 'started: false')
    await expectProbe(t, call, '/health/ready', 503, 'fail', 'started: false')
    app.health.setStateWorking()
    await expectProbe(t, call, '/health/ready', 200, 'pass', 'started: false, Working')
  })

  test(`probes live under the prefix (${transport})`, async (t) => {
    const { app, call } = await build(t, transport, { prefix: '/api' })
    app.health.setStateWorking()
    for (const probe of probes) await expectProbe(t, call, `/api/health/${probe}`, 200, 'pass', 'prefix /api')
    for (const probe of probes) await expectMissing(t, call, `/health/${probe}`, 'prefix /api')
    app.health.setStateShutDown()
    await expectProbe(t, call, '/api/health/ready', 503, 'fail', 'prefix /api, Shutting down')
    await expectProbe(t, call, '/api/health/started', 200, 'pass', 'prefix /api, Shutting down')
  })

  test(`custom probe paths are put under the prefix (${transport})`, async (t) => {
    const { call } = await build(t, transport, {
      prefix: '/api/', initialState: State.WORK, probes: { live: '/livez', started: false }
    })
    await expectProbe(t, call, '/api/livez', 200, 'pass', 'prefix and custom path')
    await expectProbe(t, call, '/api/health/ready', 200, 'pass', 'prefix and default path')
    await expectMissing(t, call, '/api/health/started', 'prefix, started: false')
    await expectMissing(t, call, '/livez', 'custom path without the prefix')
  })
}

test('probe answers hide details like /health does', async (t) => {
  const { call } = await build(t, 'inject', {
    initialState: State.WORK,
    exposeDetails: false,
    checks: { 'db:connections': () => ({ status: 'fail', output: 'secret host name' }) }
  })
  const body = await expectProbe(t, call, '/health/ready', 503, 'fail', 'details hidden')
  t.notOk('checks' in body, 'no checks')
  t.equal(body.output, '1 check failing', 'an output that names no check')
  t.notMatch(JSON.stringify(body), 'secret')
})
