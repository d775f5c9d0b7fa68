// The plugin over a real listening server (127.0.0.1, port 0) with a real client: the global fetch.
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { type Test, test } from 'tap'
import fastifyHealth, { State } from '../lib/index.js'
import { assertAnswer, CONTENT_TYPE, type HttpAnswer, listeningApp, loggedApp, request } from './helpers.js'

function assertHeaders (t: Test, answer: HttpAnswer, cacheControl: string | null): void {
  t.equal(answer.headers.get('content-type'), CONTENT_TYPE, 'content-type')
  t.equal(answer.headers.get('cache-control'), cacheControl, 'cache-control')
}

test('listens on the loopback address given', async (t) => {
  const { app, base } = await listeningApp(t, 'orders')
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
  const address = app.server.address()
  t.equal(typeof address === 'object' && address !== null ? address.address : address, '127.0.0.1')
})

test('every state over HTTP: GET and HEAD', async (t) => {
  const { app, base } = await listeningApp(t, 'orders')
  const moves: Array<[State, () => void]> = [
    [State.NOINFO, () => {}],
    [State.WARMUP, () => app.health.setStateWarmUp()],
    [State.WORK, () => app.health.setStateWorking()],
    [State.SHUTDOWN, () => app.health.setStateShutDown()],
    [State.NOINFO, () => app.health.setStateNoInfo()],
    [State.WORK, () => app.health.setState(State.WORK)]
  ]
  for (const [state, move] of moves) {
    move()
    const get = await request(`${base}/health`)
    assertAnswer(t, get, state, { serviceId: 'orders' })
    assertHeaders(t, get, 'max-age=5')
    t.equal(get.headers.get('content-length'), String(Buffer.byteLength(get.text)), 'GET: content-length')

    const head = await request(`${base}/health`, 'HEAD')
    t.equal(head.statusCode, get.statusCode, 'HEAD: same status code')
    assertHeaders(t, head, 'max-age=5')
    t.equal(head.headers.get('content-length'), get.headers.get('content-length'), 'HEAD: the GET body length')
    t.equal(head.text, '', 'HEAD: empty body')

    t.strictSame(await app.health.report(), { statusCode: get.statusCode, body: get.body }, 'report() is what GET answered')
  }
})

test('many concurrent probes get the same answer', async (t) => {
  const { app, base } = await listeningApp(t, 'orders')
  app.health.setStateWorking()
  const answers = await Promise.all(Array.from({ length: 20 }, async () => await request(`${base}/health`)))
  for (const answer of answers) assertAnswer(t, answer, State.WORK, { serviceId: 'orders' })
})

test('options over HTTP: prefix with a trailing slash, path, cache control, codes, document fields', async (t) => {
  const links = { about: 'https://example.com/orders' }
  const { app, base } = await listeningApp(t, {
    serviceName: 'orders',
    prefix: '/ops/',
    path: '/status',
    cacheControl: 'no-cache',
    statusCodes: { warn: 200, fail: 500 },
    version: '2',
    releaseId: '2.0.1',
    description: 'Orders',
    links,
    initialState: State.WARMUP
  })
  const fields = { serviceId: 'orders', version: '2', releaseId: '2.0.1', description: 'Orders', links }
  const codes: Record<State, number> = {
    [State.WARMUP]: 200, [State.WORK]: 200, [State.SHUTDOWN]: 200, [State.NOINFO]: 500
  }
  for (const state of [State.WARMUP, State.WORK, State.SHUTDOWN, State.NOINFO]) {
    app.health.setState(state)
    const get = await request(`${base}/ops/status`)
    assertAnswer(t, get, state, { ...fields, statusCode: codes[state] })
    assertHeaders(t, get, 'no-cache')
    const head = await request(`${base}/ops/status`, 'HEAD')
    t.equal(head.statusCode, codes[state], 'HEAD: same status code')
    assertHeaders(t, head, 'no-cache')
    t.equal(head.text, '')
  }
  t.equal((await request(`${base}/health`)).statusCode, 404, 'nothing at the default path')
})

test('cacheControl: false over HTTP: no Cache-Control header on the health route or the probes', async (t) => {
  const { app, base } = await listeningApp(t, { serviceName: 'orders', cacheControl: false })
  app.health.setStateWorking()
  for (const path of ['/health', '/health/live', '/health/ready', '/health/started']) {
    for (const method of ['GET', 'HEAD'] as const) {
      const answer = await request(`${base}${path}`, method)
      t.equal(answer.statusCode, 200, `${method} ${path}: status`)
      assertHeaders(t, answer, null)
    }
  }
})

test('a probe during app.close() (return503OnClosing: false) sees Shutting down before the server stops', async (t) => {
  const app = Fastify({ return503OnClosing: false })
  t.teardown(() => app.close())
  await app.register(fastifyHealth, 'orders')
  let during: HttpAnswer | undefined
  // Added after the plugin: runs after its preClose hook, while the server still accepts connections.
  app.addHook('preClose', async () => { during = await request(`${base}/health`) })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  app.health.setStateWorking()
  t.equal((await request(`${base}/health`)).statusCode, 200)
  await app.close()
  t.ok(during, 'the probe was answered')
  if (during !== undefined) {
    assertAnswer(t, during, State.SHUTDOWN, { serviceId: 'orders' })
    assertHeaders(t, during, 'max-age=5')
  }
  await t.rejects(request(`${base}/health`), 'the server no longer answers once closed')
})

test('an async onSend hook: a request that waits is still sent once', async (t) => {
  // Waiting paths: a first reading, cacheFor 0, a drill-down that runs, an async detail policy.
  // Each must resolve to the reply: resolving to undefined while the hook holds the first send
  // made Fastify send again (ERR_HTTP_HEADERS_SENT, an error line and onError per request).
  const { app, lines } = loggedApp(t)
  let sends = 0
  let errors = 0
  app.addHook('onSend', async (request, reply, payload) => {
    sends++
    await sleep(5)
    return payload
  })
  app.addHook('onError', async () => { errors++ })
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    initialState: State.WORK,
    exposeDetails: async () => true,
    checks: { db: { check: async () => { await sleep(5) }, cacheFor: 0 } }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const urls = ['/health', '/health/ready', '/health/checks/db', '/health/checks/nothing']
  for (const url of urls) t.equal((await request(`${base}${url}`)).statusCode, url.endsWith('nothing') ? 404 : 200, url)
  const injected = await app.inject('/health/live')
  t.equal(injected.statusCode, 200, 'inject too')
  t.equal(sends, urls.length + 1, 'the onSend hook ran once per request')
  t.equal(errors, 0, 'no onError')
  t.strictSame(lines.filter((line) => (line.level as number) >= 50), [], 'no error line')
})
