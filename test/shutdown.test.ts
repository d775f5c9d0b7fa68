import { get } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type FastifyHealthOptions, State } from '../lib/index.js'
import { schemaErrors } from './helpers.js'

interface Served {
  app: FastifyInstance
  base: string
  /** What happened, in order: `close` when close() begins, `closed` when it ends, and more. */
  events: string[]
  /** Times the instance went through its onClose hooks. */
  closes: () => number
}

/**
 * A listening instance (127.0.0.1, free port) with the plugin, Working, and a normal route:
 * GET /work?ms=N answers 200 after N ms (default 5).
 */
async function serve (
  t: Test, options: Partial<FastifyHealthOptions> = {}, setup: (app: FastifyInstance, events: string[]) => void = () => {}
): Promise<Served> {
  const app = Fastify()
  const events: string[] = []
  let closes = 0
  await app.register(fastifyHealth, { serviceName: 'orders', shutdownDelay: 300, ...options })
  // Registered after the plugin: runs after its own preClose hook.
  app.addHook('preClose', async () => { events.push(`close:${app.health.state}`) })
  app.addHook('onClose', async () => { closes++; events.push('closed') })
  app.get<{ Querystring: { ms?: string } }>('/work', async (request) => {
    await sleep(Number(request.query.ms ?? 5))
    return { ok: true }
  })
  setup(app, events)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  app.health.setStateWorking()
  t.teardown(() => {
    // Never hang the teardown on a connection a failing test left open.
    app.server.closeAllConnections()
    return app.close()
  })
  return { app, base, events, closes: () => closes }
}

/** A GET on a connection of its own, closed after the answer (no keep-alive): the code. */
function closingGet (url: string): Promise<number | string> {
  return new Promise((resolve) => {
    get(url, { agent: false }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 'no status'))
    }).once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.name))
  })
}

/** Whether a new TCP connection to the server's port is refused. */
function refused (base: string): Promise<boolean> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', (error) => resolve((error as NodeJS.ErrnoException).code === 'ECONNREFUSED'))
  })
}

/** The code of a request, or the name of the error that kept it from being answered. */
async function outcome (url: string, init?: RequestInit): Promise<number | string> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
    await res.arrayBuffer()
    return res.status
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return cause?.code ?? (error as Error).name
  }
}

test('shutdown(): not ready at once, serving as usual during the delay, then closed', async (t) => {
  const { app, base, events, closes } = await serve(t, { shutdownDelay: 1000 })
  t.equal(await outcome(`${base}/health/ready`), 200, 'ready while Working')

  let resolved = false
  const shutdown = app.health.shutdown()
  shutdown.then(() => { resolved = true }, () => {})
  t.equal(app.health.state, State.SHUTDOWN, 'Shutting down at once')

  const ready = await fetch(`${base}/health/ready`)
  t.equal(ready.status, 503, 'readiness answers 503 during the delay')
  const body = await ready.json()
  t.same(schemaErrors(body), [])
  t.equal(body.status, 'fail')
  t.match(body.output, 'Service state: Shutting down')
  const head = await fetch(`${base}/health/ready`, { method: 'HEAD' })
  t.equal(head.status, 503, 'HEAD readiness answers 503 during the delay')

  t.equal(await outcome(`${base}/work`), 200, 'a normal route answers during the delay')
  t.equal(await outcome(`${base}/work`, { method: 'HEAD' }), 200, 'its HEAD route too')
  t.equal(await outcome(`${base}/health/live`), 200, 'liveness stays 200')
  t.equal(await outcome(`${base}/health/started`), 200, 'started stays 200')
  t.equal(await outcome(`${base}/health`), 202, 'the health document says warn')
  // The assertions above only mean something if they ran before the delay ended.
  t.same(events, [], 'close() has not begun during the delay')
  t.notOk(resolved, 'shutdown() has not resolved during the delay')
  t.ok(app.server.listening, 'still listening during the delay')

  await shutdown
  t.same(events, ['close:Shutting down', 'closed'], 'then the instance closed')
  t.equal(closes(), 1)
  t.notOk(app.server.listening, 'no longer listening')
  t.ok(await refused(base), 'new connections are refused once closed')
})

for (const keepAlive of [false, true]) {
  const client = keepAlive ? 'a keep-alive client' : 'a client that closes its connection'
  test(`shutdown() lets a request in flight from ${client} finish, then resolves`, async (t) => {
    const { app, base, events } = await serve(t, { shutdownDelay: 300 }, (app, events) => {
      app.addHook('onResponse', async (request) => { events.push(`responded:${request.url}`) })
    })
    const shutdown = app.health.shutdown()
    shutdown.then(() => { events.push('resolved') }, () => {})
    // Started during the delay, still running when close() begins.
    const url = `${base}/work?ms=800`
    t.equal(await (keepAlive ? outcome(url) : closingGet(url)), 200, 'the in-flight request is answered 200')
    const inTime = await Promise.race([shutdown.then(() => true), sleep(2000).then(() => false)])
    // With keep-alive, the plugin closes the connection once it is idle (Node alone would wait
    // for keepAliveTimeout).
    t.ok(inTime, 'shutdown() resolves once the in-flight request is answered')
    // Let a hanging close end, so that the remaining assertions still run.
    if (!inTime) app.server.closeAllConnections()
    await shutdown
    const closing = events.indexOf('close:Shutting down')
    const responded = events.indexOf('responded:/work?ms=800')
    t.ok(closing >= 0 && responded > closing, 'the slow request was in flight when close() began')
    t.ok(responded < events.indexOf('closed'), 'it finished before the instance closed')
    t.equal(events.at(-1), 'resolved', 'shutdown() resolved last')
  })
}

test('shutdown() twice returns the same promise and closes once', async (t) => {
  const { app, events, closes } = await serve(t, { shutdownDelay: 50 })
  const first = app.health.shutdown()
  const second = app.health.shutdown()
  t.equal(second, first, 'the same promise')
  await Promise.all([first, second])
  t.equal(app.health.shutdown(), first, 'still the same promise once closed')
  await app.health.shutdown()
  t.equal(closes(), 1, 'closed once')
  t.same(events, ['close:Shutting down', 'closed'])
})

test('shutdown() with shutdownDelay 0 closes at once', async (t) => {
  const { app, events, closes } = await serve(t, { shutdownDelay: 0 })
  await app.health.shutdown()
  t.equal(app.health.state, State.SHUTDOWN)
  t.equal(closes(), 1)
  t.same(events, ['close:Shutting down', 'closed'])
})

test('app.close() on its own sets Shutting down first (preClose)', async (t) => {
  let whileClosing: { state: string, status: string } | undefined
  const { app, events, closes } = await serve(t, {}, (app) => {
    app.addHook('preClose', async () => {
      whileClosing = { state: app.health.state, status: (await app.health.report()).body.status }
    })
  })
  const changes: string[] = []
  app.health.onChange((current, previous) => { changes.push(`${previous}->${current}`) })
  t.equal((await app.inject('/health/ready')).statusCode, 200, 'ready before close()')
  await app.close()
  t.equal(app.health.state, State.SHUTDOWN)
  t.same(events, ['close:Shutting down', 'closed'], 'the state was Shutting down before the other preClose hooks')
  t.strictSame(whileClosing, { state: State.SHUTDOWN, status: 'warn' }, 'Shutting down (so not ready) while closing')
  t.same(changes, ['pass->warn'], 'listeners heard of it')
  t.equal(closes(), 1)
})

test('app.close() with an injected instance also sets Shutting down', async (t) => {
  const app = Fastify()
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK })
  await app.ready()
  await app.close()
  t.equal(app.health.state, State.SHUTDOWN)
})

test('concurrent keep-alive clients lose no request started before or during the delay', async (t) => {
  const delay = 600
  // Clients stop starting requests well before the delay ends: a request started after the
  // delay is not covered by the promise, and the margin keeps the result free of timer races.
  const stopAfter = 300
  const clients = 8
  let inFlight = 0
  let inFlightAtClose = -1
  const { app, base, events } = await serve(t, { shutdownDelay: delay }, (app) => {
    app.addHook('onRequest', async (request) => { if (request.url.startsWith('/work')) inFlight++ })
    app.addHook('onResponse', async (request) => { if (request.url.startsWith('/work')) inFlight-- })
    app.addHook('preClose', async () => { inFlightAtClose = inFlight })
  })

  type Phase = 'before' | 'during'
  const results: Array<{ phase: Phase, result: number | string }> = []
  let phase: Phase = 'before'
  const control = { stop: false }
  const client = async (index: number): Promise<void> => {
    while (!control.stop) {
      const started = phase
      // Mostly quick requests, and now and then a slower one, so that some are in flight.
      const ms = index % 4 === 0 ? 40 : 2 + (results.length % 7)
      results.push({ phase: started, result: await outcome(`${base}/work?ms=${ms}`) })
    }
  }

  const readiness: Array<{ phase: Phase, result: number | string }> = []
  const prober = async (): Promise<void> => {
    while (!control.stop) {
      const started = phase
      readiness.push({ phase: started, result: await outcome(`${base}/health/ready`) })
      await sleep(20)
    }
  }

  const running = [...Array.from({ length: clients }, (_, i) => client(i)), prober()]
  await sleep(200)
  phase = 'during'
  const shutdown = app.health.shutdown()
  // Slow requests started during the delay, still running when close() begins.
  const lingering = [closingGet(`${base}/work?ms=${delay + 300}`), closingGet(`${base}/work?ms=${delay + 500}`)]
  await sleep(stopAfter)
  control.stop = true
  await Promise.all(running)
  const lingeringResults = await Promise.all(lingering)
  await shutdown

  const before = results.filter((r) => r.phase === 'before')
  const during = results.filter((r) => r.phase === 'during')
  t.ok(before.length > clients, `requests ran before shutdown() (${before.length})`)
  t.ok(during.length > clients, `requests ran during the delay (${during.length})`)
  const failed = results.filter((r) => r.result !== 200)
  t.same(failed, [], 'no request was dropped, refused or answered anything but 200')
  t.same(lingeringResults, [200, 200], 'requests in flight when close() began finished with 200')
  t.ok(inFlightAtClose >= 2, `requests were in flight when close() began (${inFlightAtClose})`)
  t.same(events, ['close:Shutting down', 'closed'])

  t.ok(readiness.some((r) => r.phase === 'before' && r.result === 200), 'ready before shutdown()')
  const readyDuring = readiness.filter((r) => r.phase === 'during').map((r) => r.result)
  t.ok(readyDuring.length > 0, 'readiness was probed during the delay')
  t.same([...new Set(readyDuring)], [503], 'readiness answered 503 throughout the delay')
  t.equal(inFlight, 0, 'nothing left in flight')
})
