import { get } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { test, type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type FastifyHealthOptions, State } from '../lib/index.js'
import { gate, schemaErrors } from './helpers.js'
import { waitFor } from './servers/common.js'

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
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', shutdownDelay: 300, ...options })
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

/**
 * Runs `attempt` with a drain delay of 1 s, then 4 s, then 16 s, until one saw what it must see
 * while the delay still ran (`inTime`): on a loaded machine the requests that must land in the
 * delay can take longer than it. No margin is guessed: the attempt tells whether it was in time.
 */
async function withinDelay<T extends { inTime: boolean, delay: number }> (attempt: (delay: number) => Promise<T>): Promise<T> {
  let seen = await attempt(1000)
  for (const delay of [4000, 16_000]) {
    if (seen.inTime) break
    seen = await attempt(delay)
  }
  return seen
}

test('shutdown(): not ready at once, serving as usual during the delay, then closed', async (t) => {
  const seen = await withinDelay(async (delay) => {
    const { app, base, events, closes } = await serve(t, { shutdownDelay: delay })
    const readyBefore = await outcome(`${base}/health/ready`)
    let resolved = false
    const shutdown = app.health.shutdown()
    shutdown.then(() => { resolved = true }, () => {})
    const stateAtOnce = app.health.state
    const ready = await fetch(`${base}/health/ready`)
    const readyBody = await ready.json()
    const during = {
      ready: ready.status,
      readyHead: (await fetch(`${base}/health/ready`, { method: 'HEAD' })).status,
      work: await outcome(`${base}/work`),
      workHead: await outcome(`${base}/work`, { method: 'HEAD' }),
      live: await outcome(`${base}/health/live`),
      started: await outcome(`${base}/health/started`),
      health: await outcome(`${base}/health`)
    }
    // The answers above only mean something if they came before the delay ended.
    const inTime = events.length === 0 && !resolved && app.server.listening
    await shutdown
    return { inTime, delay, readyBefore, stateAtOnce, readyBody, during, events: [...events], closes: closes(), listening: app.server.listening, refused: await refused(base) }
  })
  t.ok(seen.inTime, `close() had not begun and shutdown() had not resolved when the requests below were answered (delay ${seen.delay} ms)`)
  t.equal(seen.readyBefore, 200, 'ready while Working')
  t.equal(seen.stateAtOnce, State.SHUTDOWN, 'Shutting down at once')
  t.equal(seen.during.ready, 503, 'readiness answers 503 during the delay')
  t.same(schemaErrors(seen.readyBody), [])
  t.equal(seen.readyBody.status, 'fail')
  t.match(seen.readyBody.output, 'Service state: Shutting down')
  t.equal(seen.during.readyHead, 503, 'HEAD readiness answers 503 during the delay')
  t.equal(seen.during.work, 200, 'a normal route answers during the delay')
  t.equal(seen.during.workHead, 200, 'its HEAD route too')
  t.equal(seen.during.live, 200, 'liveness stays 200')
  t.equal(seen.during.started, 200, 'started stays 200')
  t.equal(seen.during.health, 202, 'the health document says warn')
  t.same(seen.events, ['close:Shutting down', 'closed'], 'then the instance closed')
  t.equal(seen.closes, 1)
  t.notOk(seen.listening, 'no longer listening')
  t.ok(seen.refused, 'new connections are refused once closed')
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
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK })
  await app.ready()
  await app.close()
  t.equal(app.health.state, State.SHUTDOWN)
})

test('concurrent keep-alive clients lose no request started before or during the delay', async (t) => {
  const clients = 8
  const seen = await withinDelay(async (delay) => {
    let inFlight = 0
    let inFlightAtClose = -1
    let held = 0
    // Two slow requests, started during the delay, answered only once close() has begun.
    const closing = gate()
    const { app, base, events } = await serve(t, { shutdownDelay: delay }, (app) => {
      app.addHook('onRequest', async (request) => { if (request.url.startsWith('/work') || request.url === '/held') inFlight++ })
      app.addHook('onResponse', async (request) => { if (request.url.startsWith('/work') || request.url === '/held') inFlight-- })
      app.addHook('preClose', async () => {
        inFlightAtClose = inFlight
        closing.open()
      })
      app.get('/held', async () => {
        held++
        await closing.promise
        return { ok: true }
      })
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
    const count = (which: Phase): number => results.filter((r) => r.phase === which).length

    const running = [...Array.from({ length: clients }, (_, i) => client(i)), prober()]
    await waitFor('requests before shutdown()', () => count('before') >= clients * 2 && readiness.length > 0, 30_000, 5)
    phase = 'during'
    const shutdown = app.health.shutdown()
    const lingering = [closingGet(`${base}/held`), closingGet(`${base}/held`)]
    // The clients stop starting requests once enough ran during the delay; had close() begun
    // before that, the attempt says so (inTime) and runs again with a longer delay.
    await waitFor('requests during the delay', () => (count('during') >= clients * 2 && held === 2 && readiness.some((r) => r.phase === 'during')) || events.length > 0, 60_000, 5)
    const inTime = events.length === 0
    control.stop = true
    await Promise.all(running)
    const lingeringResults = await Promise.all(lingering)
    await shutdown
    return { inTime, delay, results, readiness, lingeringResults, inFlightAtClose, inFlight, events: [...events] }
  })

  t.ok(seen.inTime, `the clients stopped starting requests before the delay ended (delay ${seen.delay} ms)`)
  const before = seen.results.filter((r) => r.phase === 'before')
  const during = seen.results.filter((r) => r.phase === 'during')
  t.ok(before.length > clients, `requests ran before shutdown() (${before.length})`)
  t.ok(during.length > clients, `requests ran during the delay (${during.length})`)
  t.same(seen.results.filter((r) => r.result !== 200), [], 'no request was dropped, refused or answered anything but 200')
  t.same(seen.lingeringResults, [200, 200], 'requests in flight when close() began finished with 200')
  t.ok(seen.inFlightAtClose >= 2, `requests were in flight when close() began (${seen.inFlightAtClose})`)
  t.same(seen.events, ['close:Shutting down', 'closed'])

  t.ok(seen.readiness.some((r) => r.phase === 'before' && r.result === 200), 'ready before shutdown()')
  const readyDuring = seen.readiness.filter((r) => r.phase === 'during').map((r) => r.result)
  t.ok(readyDuring.length > 0, 'readiness was probed during the delay')
  t.same([...new Set(readyDuring)], [503], 'readiness answered 503 throughout the delay')
  t.equal(seen.inFlight, 0, 'nothing left in flight')
})
