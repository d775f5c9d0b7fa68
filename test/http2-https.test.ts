// The plugin on HTTPS, on cleartext HTTP/2 (h2c) and on HTTP/2 over TLS, with real clients
// (node:https with a keep-alive agent, node:http2 sessions): every health route answers GET and
// HEAD, and the draining shutdown works: readiness 503 during the delay on the open connection
// and on new ones, then the instance closes although the clients keep their connections open.
import { Agent, request as httpsRequest } from 'node:https'
import { connect, type ClientHttp2Session } from 'node:http2'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import t, { test, type Test } from 'tap'
import fastifyHealth, { State } from '../lib/index.js'
import { CONTENT_TYPE, type Gate, gate, healthRoutes, schemaErrors, STACK_FRAME, until } from './helpers.js'
import { fromNow, issue } from './servers/certificates.js'
import { scratchDir } from './servers/common.js'

const scratch = await scratchDir('fastify-health-h2-')
const certificate = await issue(scratch.path, {
  commonName: 'localhost', notBefore: fromNow(-1), notAfter: fromNow(30), altNames: ['IP:127.0.0.1', 'DNS:localhost']
})
t.teardown(scratch.remove)

interface Answer { status: number, contentType: string | undefined, text: string }

/** A client that keeps its connection (a keep-alive socket, or one HTTP/2 session) between requests. */
interface Client {
  get: (path: string, method?: 'GET' | 'HEAD') => Promise<Answer>
  /** Connections it opened that are still open. */
  open: () => number
  close: () => void
}

function httpsClient (base: string): Client {
  const agent = new Agent({ keepAlive: true, ca: certificate.cert })
  return {
    get: (path, method = 'GET') => new Promise((resolve, reject) => {
      httpsRequest(base + path, { method, agent }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
        res.once('end', () => resolve({ status: res.statusCode as number, contentType: res.headers['content-type'], text }))
      }).once('error', reject).end()
    }),
    open: () => Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length,
    close: () => agent.destroy()
  }
}

function http2Client (base: string): Client {
  const sessions: ClientHttp2Session[] = []
  const session = (): ClientHttp2Session => {
    const open = sessions.find((s) => !s.closed && !s.destroyed)
    if (open !== undefined) return open
    const made = connect(base, { ca: certificate.cert })
    made.on('error', () => {})
    sessions.push(made)
    return made
  }
  return {
    get: (path, method = 'GET') => new Promise((resolve, reject) => {
      const stream = session().request({ ':path': path, ':method': method })
      let text = ''
      let headers: Record<string, unknown> = {}
      stream.setEncoding('utf8')
      stream.once('response', (got) => { headers = got })
      stream.on('data', (chunk: string) => { text += chunk })
      stream.once('end', () => resolve({ status: headers[':status'] as number, contentType: headers['content-type'] as string | undefined, text }))
      stream.once('error', reject)
      stream.end()
    }),
    open: () => sessions.filter((s) => !s.closed && !s.destroyed).length,
    close: () => { for (const s of sessions) s.destroy() }
  }
}

const servers: Array<{ name: string, options: FastifyServerOptions, client: (base: string) => Client }> = [
  { name: 'HTTPS', options: { https: { key: certificate.key, cert: certificate.cert } } as FastifyServerOptions, client: httpsClient },
  { name: 'HTTP/2 cleartext (h2c)', options: { http2: true } as FastifyServerOptions, client: http2Client },
  { name: 'HTTP/2 over TLS', options: { http2: true, https: { key: certificate.key, cert: certificate.cert } } as FastifyServerOptions, client: http2Client }
]

/** GET /slow: `arrived` opens when it is in the handler, which answers once `release` opens. */
interface Slow { arrived: Gate, release: Gate }

async function serve (t: Test, options: FastifyServerOptions, shutdownDelay = 10_000): Promise<{ app: FastifyInstance, base: string, slow: Slow }> {
  const app = Fastify(options) as unknown as FastifyInstance
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, shutdownDelay, checks: { db: () => undefined } })
  app.get('/work', async () => ({ ok: true }))
  const slow: Slow = { arrived: gate(), release: gate() }
  app.get('/slow', async () => {
    slow.arrived.open()
    await slow.release.promise
    return { ok: true }
  })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => {
    slow.release.open()
    return app.close()
  })
  return { app, base: address.replace('http://', (options as { https?: unknown }).https === undefined ? 'http://' : 'https://'), slow }
}

async function expectHealth (t: Test, client: Client, path: string, status: number, method: 'GET' | 'HEAD' = 'GET'): Promise<void> {
  const got = await client.get(path, method)
  t.equal(got.status, status, `${method} ${path}: ${status}`)
  t.equal(got.contentType, CONTENT_TYPE, `${method} ${path}: health+json`)
  if (method === 'HEAD') t.equal(got.text, '', `HEAD ${path}: no body`)
  else t.same(schemaErrors(JSON.parse(got.text)), [], `${path}: valid by both schemas`)
  t.notMatch(got.text, STACK_FRAME)
}

for (const { name, options, client: makeClient } of servers) {
  test(`${name}: every health route answers GET and HEAD`, async (t) => {
    const { base } = await serve(t, options)
    t.match(base, (options as { https?: unknown }).https === undefined ? /^http:/ : /^https:/)
    const client = makeClient(base)
    t.teardown(client.close)
    for (const path of healthRoutes) {
      await expectHealth(t, client, path, 200)
      await expectHealth(t, client, path, 200, 'HEAD')
    }
    t.equal(client.open(), 1, 'all on one connection')
  })

  test(`${name}: shutdown() drains, then closes although the client keeps its connection`, async (t) => {
    const { app, base } = await serve(t, options, 500)
    const kept = makeClient(base)
    t.teardown(kept.close)
    await expectHealth(t, kept, '/health/ready', 200)
    const shutdown = app.health.shutdown()
    await expectHealth(t, kept, '/health/ready', 503)
    t.equal((await kept.get('/work')).status, 200, 'the app still serves on the open connection')
    const fresh = makeClient(base)
    t.teardown(fresh.close)
    await expectHealth(t, fresh, '/health/ready', 503)
    await expectHealth(t, fresh, '/health/live', 200)
    t.equal((await fresh.get('/work')).status, 200, 'a new connection is served during the delay')
    t.equal(kept.open(), 1, 'the kept connection is open, idle, when the delay ends')
    // Bounded well below any keep-alive or HTTP/2 session timeout (72 s).
    const closed = await Promise.race([shutdown.then(() => true), sleep(3_000, false, { ref: false })])
    t.ok(closed, 'shutdown() resolved: the idle connections did not hold the instance open')
    if (!closed) { kept.close(); fresh.close(); await shutdown }
    t.notOk(app.server.listening, 'no longer listening')
    // The clients learn of the closing on their own time: polled, bounded.
    await until(t, () => kept.open() + fresh.open() === 0, 'the server closed the clients\' connections')
  })
}

test('HTTP/2: a request in flight when the instance closes is answered', async (t) => {
  const { app, base, slow } = await serve(t, { http2: true } as FastifyServerOptions, 0)
  const client = http2Client(base)
  t.teardown(client.close)
  t.equal((await client.get('/work')).status, 200)
  const answer = client.get('/slow')
  await slow.arrived.promise
  const shutdown = app.health.shutdown()
  // Answered only once the instance stopped listening: in flight while it closes, for sure.
  await until(t, () => !app.server.listening, 'the instance stopped listening while the request was in flight')
  slow.release.open()
  t.equal((await answer).status, 200, 'the slow request finished with 200')
  await shutdown
  t.notOk(app.server.listening)
})
