// Draining under load over HTTPS, HTTP/2 over TLS and cleartext HTTP/2 (h2c), as
// shutdown.test.ts does over HTTP/1: four client loops send a fixed count of requests each on
// kept connections (a keep-alive agent, one HTTP/2 session), shutdown() is called while they
// run, readiness answers 503 throughout the delay, and every request sent before close() began
// is answered 200, the ones still in flight when it began included; then the instance closes.
//
// No sleep decides anything: the loops wait at a gate for shutdown(), and each ends with a
// request its handler holds until close() has begun, so that requests are in flight when it
// does whatever the machine's speed. What is sent during the delay is a fixed count, a few
// dozen requests against a delay of seconds; the test asserts that all of it reached the server
// before close() began (a request still on the wire then gets Fastify's own 503 or a reset: the
// delay is there so that load balancers stop sending before that).
import { Agent, request as httpsRequest } from 'node:https'
import { connect, type ClientHttp2Session } from 'node:http2'
import { connect as tcpConnect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import t, { type Test } from 'tap'
import fastifyHealth, { State } from '../lib/index.js'
import { CONTENT_TYPE, gate, schemaErrors } from './helpers.js'
import { fromNow, issue } from './servers/certificates.js'
import { scratchDir, waitFor } from './servers/common.js'

t.setTimeout(60_000)

const scratch = await scratchDir('drain-tls-h2')
t.teardown(scratch.remove)
const certificate = await issue(scratch.path, {
  commonName: 'localhost', notBefore: fromNow(-1), notAfter: fromNow(30), altNames: ['IP:127.0.0.1', 'DNS:localhost']
})

const LOOPS = 4
/** Requests each loop sends before shutdown() is called, and during the delay (then one held). */
const BEFORE = 15
const DURING = 10
/** Readiness probes during the delay. */
const PROBES = 5
const SHUTDOWN_DELAY = 3000
/** No single request may take longer than this: a hang fails the test instead of stalling it. */
const REQUEST_TIMEOUT = 10_000

/** The status code, or the name of what kept the request from being answered. */
type Outcome = number | string
interface Answer { status: Outcome, contentType?: string, text: string }

interface Client {
  get: (path: string) => Promise<Answer>
  close: () => void
}

const failure = (error: unknown): Answer => ({ status: (error as NodeJS.ErrnoException).code ?? (error as Error).name ?? 'error', text: '' })

function httpsClient (base: string): Client {
  const agent = new Agent({ keepAlive: true, ca: certificate.cert })
  return {
    get: (path) => new Promise((resolve) => {
      const req = httpsRequest(base + path, { agent, timeout: REQUEST_TIMEOUT }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
        res.once('end', () => resolve({ status: res.statusCode as number, contentType: res.headers['content-type'], text }))
        res.once('error', (error) => resolve(failure(error)))
      })
      req.once('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })))
      req.once('error', (error) => resolve(failure(error))).end()
    }),
    close: () => agent.destroy()
  }
}

function http2Client (base: string): Client {
  // One session for every loop: their streams are multiplexed on it, as a proxy's would be.
  const session: ClientHttp2Session = connect(base, { ca: certificate.cert })
  session.on('error', () => {})
  return {
    get: (path) => new Promise((resolve) => {
      let stream
      try {
        stream = session.request({ ':path': path })
      } catch (error) {
        return resolve(failure(error))
      }
      let text = ''
      let headers: Record<string, unknown> = {}
      stream.setEncoding('utf8')
      stream.setTimeout(REQUEST_TIMEOUT, () => stream.close())
      stream.once('response', (got) => { headers = got })
      stream.on('data', (chunk: string) => { text += chunk })
      stream.once('end', () => resolve({ status: (headers[':status'] as number | undefined) ?? 'no response', contentType: headers['content-type'] as string | undefined, text }))
      stream.once('error', (error) => resolve(failure(error)))
      stream.end()
    }),
    close: () => session.destroy()
  }
}

const tls = { key: certificate.key, cert: certificate.cert }
const transports: Array<{ name: string, options: FastifyServerOptions, client: (base: string) => Client }> = [
  { name: 'HTTPS', options: { https: tls } as FastifyServerOptions, client: httpsClient },
  { name: 'HTTP/2 over TLS', options: { http2: true, https: tls } as FastifyServerOptions, client: http2Client },
  { name: 'HTTP/2 cleartext (h2c)', options: { http2: true } as FastifyServerOptions, client: http2Client }
]

/** Whether a new TCP connection to the server's port is refused. */
function refused (base: string): Promise<boolean> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(port), hostname)
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', (error) => resolve((error as NodeJS.ErrnoException).code === 'ECONNREFUSED'))
  })
}

interface Drained {
  app: FastifyInstance
  base: string
  /** Set by the first preClose hook: close() has begun. */
  closing: () => boolean
  /** What the server had received, and the handlers running, when close() began. */
  atClose: () => { received: number, inFlight: number } | undefined
  events: string[]
}

/**
 * The app: a preClose hook before the plugin's (notes what had arrived, and tells the clients
 * to stop), the plugin, then a preClose hook after it (the plugin has begun closing the
 * connections: the held requests may finish). GET /work answers at once; /work?hold waits for
 * close() to begin.
 */
async function drainingApp (t: Test, options: FastifyServerOptions): Promise<Drained> {
  const app = Fastify(options) as unknown as FastifyInstance
  const events: string[] = []
  let received = 0
  let running = 0
  let closing = false
  let atClose: { received: number, inFlight: number } | undefined
  const held = gate()
  app.addHook('onRequest', async () => { received++ })
  app.addHook('preClose', async () => {
    closing = true
    atClose = { received, inFlight: running }
    events.push('close')
  })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, shutdownDelay: SHUTDOWN_DELAY })
  app.addHook('preClose', async () => { held.open() })
  app.addHook('onClose', async () => { events.push('closed') })
  app.get<{ Querystring: { hold?: string } }>('/work', async (request) => {
    running++
    try {
      if (request.query.hold !== undefined) await held.promise
      return { ok: true }
    } finally {
      running--
    }
  })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const secure = (options as { https?: unknown }).https !== undefined
  t.teardown(async () => {
    held.open()
    await app.close()
  })
  return {
    app,
    base: secure ? address.replace(/^http:/, 'https:') : address,
    closing: () => closing,
    atClose: () => atClose,
    events
  }
}

for (const { name, options, client: makeClient } of transports) {
  t.test(`${name}: shutdown() under load loses no request, readiness 503 throughout the delay`, async (t) => {
    const served = await drainingApp(t, options)
    const { app, base } = served
    const client = makeClient(base)
    t.teardown(client.close)

    let sent = 0
    /** A request, counted as sent, unless close() has begun (then undefined: nothing is sent). */
    const send = async (path: string): Promise<Answer | undefined> => {
      if (served.closing()) return undefined
      sent++
      return await client.get(path)
    }
    const results: Record<'before' | 'during' | 'held', Outcome[]> = { before: [], during: [], held: [] }
    const shuttingDown = gate()
    let waiting = 0
    const loop = async (): Promise<void> => {
      for (let i = 0; i < BEFORE; i++) results.before.push((await send('/work'))?.status ?? 'not sent')
      waiting++
      await shuttingDown.promise
      for (let i = 0; i < DURING; i++) results.during.push((await send('/work'))?.status ?? 'not sent')
      results.held.push((await send('/work?hold'))?.status ?? 'not sent')
    }
    const loops = Array.from({ length: LOOPS }, loop)
    await waitFor('every loop to be done with its requests before shutdown()', () => waiting === LOOPS, 20_000, 5)
    t.equal((await send('/health/ready'))?.status, 200, 'ready before shutdown()')

    const shutdown = app.health.shutdown()
    shuttingDown.open()
    const readiness: Answer[] = []
    for (let i = 0; i < PROBES; i++) {
      const got = await send('/health/ready')
      if (got !== undefined) readiness.push(got)
    }
    await Promise.all(loops)
    const closed = await Promise.race([shutdown.then(() => true), sleep(SHUTDOWN_DELAY + REQUEST_TIMEOUT, false, { ref: false })])
    t.ok(closed, 'shutdown() resolved')

    t.strictSame(served.atClose(), { received: sent, inFlight: LOOPS },
      `every request sent (${sent}) had reached the server when close() began, the ${LOOPS} held ones still in flight`)
    t.strictSame(results, {
      before: Array(LOOPS * BEFORE).fill(200),
      during: Array(LOOPS * DURING).fill(200),
      held: Array(LOOPS).fill(200)
    }, 'every request was answered 200: before shutdown(), during the delay, and in flight when close() began')

    t.equal(readiness.length, PROBES, 'readiness was probed during the delay')
    t.strictSame([...new Set(readiness.map((got) => got.status))], [503], 'readiness answered 503 throughout the delay')
    t.strictSame([...new Set(readiness.map((got) => got.contentType))], [CONTENT_TYPE], 'as health+json')
    const bodies = readiness.map((got) => JSON.parse(got.text) as { status: string, output?: string })
    t.strictSame(bodies.flatMap(schemaErrors), [], 'every readiness body valid by both schemas')
    t.ok(bodies.every((body) => body.status === 'fail' && /Shutting down/.test(String(body.output))), 'each says the service is shutting down')

    t.strictSame(served.events, ['close', 'closed'], 'the instance closed once')
    t.notOk(app.server.listening, 'no longer listening')
    t.ok(await refused(base), 'new connections are refused once closed')
  })
}
