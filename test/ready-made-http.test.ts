import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { test, type Test } from 'tap'
import fastifyHealth, { type HealthResponse, State } from '../lib/index.js'
import { httpCheck, type HttpCheckAnswer } from '../lib/checks/http.js'
import { draftErrors } from './draft-validator.js'
import { loggedApp, request, workingApp } from './helpers.js'
import { activeTimers, expectTimeoutThroughPlugin, freePort, newSockets, openSockets, runCheck, waitFor } from './servers/common.js'

// httpCheck against real node:http upstreams on 127.0.0.1, one per test, each answering the
// case it plays: a status, a redirect, a health+json document, a hang, a reset, a huge body.

interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

interface Upstream {
  base: string
  port: number
  /** Every request received, in order. */
  seen: Seen[]
  /** Connections accepted, and those still open. */
  accepted: () => number
  open: () => number
}

/** A node:http server on 127.0.0.1 answering with `handler`, closed (connections and all) in teardown. */
async function upstream (t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const seen: Seen[] = []
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((req, res) => {
    seen.push({ method: req.method as string, url: req.url as string, headers: req.headers })
    handler(req, res)
  })
  server.on('connection', (socket) => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as { port: number }
  return { base: `http://127.0.0.1:${port}`, port, seen, accepted: () => accepted, open: () => sockets.size }
}

/** An upstream that answers `status` with `body` as `type`. */
const answering = (t: Test, status: number, body = '', type = 'text/plain', extra: Record<string, string> = {}): Promise<Upstream> =>
  upstream(t, (_req, res) => {
    res.writeHead(status, { 'content-type': type, ...extra })
    res.end(body)
  })

test('the factory checks its target and options at once', async (t) => {
  for (const target of [42, undefined, 'not a url', 'http://', 'ftp://alice:s3cret@files.test/x', 'http://alice:s3cret%zz@api.test/']) {
    const error = t.throws(() => httpCheck(target as string), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' }, `target ${String(target)}`)
    t.notMatch((error as Error).message, /s3cret|alice/, 'the message shows no credential')
  }
  t.throws(() => httpCheck('ftp://files.test/x'), { message: /expects an http: or https: URL, got a ftp: URL/ })
  const bad: unknown[] = [
    'fast', { retries: 1 }, { method: 'POST' }, { headers: { 'x-n': 1 } }, { headers: ['x'] }, { headers: null },
    { headers: { 'x-a': 'one\r\nx-b: two' } }, { headers: { 'bad name': 'x' } },
    { expect: 99 }, { expect: [] }, { expect: [200, 'x'] }, { expect: { min: 300, max: 200 } },
    { expect: { min: 200, max: 299, step: 1 } }, { expect: '200' }, { expect: null }, { accept: true },
    { followRedirects: -1 }, { followRedirects: 1.5 }, { maxBodyBytes: -1 }, { warn: 5, fail: 1 }, { componentId: '' }
  ]
  for (const options of bad) {
    t.throws(() => httpCheck('http://api.test/health', options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(options))
  }
  t.type(httpCheck(new URL('https://api.test/health'), { expect: { min: 200, max: 204 }, method: 'HEAD', headers: {} }).check, 'function')
})

test('a 2xx: pass, timed to the answer, one request, the connection closed', async (t) => {
  const up = await answering(t, 200, 'ok')
  const reading = await runCheck(httpCheck(`${up.base}/health`).check)
  t.match(reading, { componentType: 'component', componentId: `${up.base}/health`, observedUnit: 'ms', status: 'pass' })
  t.type(reading.observedValue, 'number')
  t.equal(reading.output, undefined)
  t.match(up.seen, [{ method: 'GET', url: '/health' }])
  await waitFor('the connection to close', () => up.open() === 0, 5000, 10)
  t.equal(up.accepted(), 1)
  const before = openSockets()
  await runCheck(httpCheck(`${up.base}/health`).check)
  await waitFor('the client socket to close', () => newSockets(before).length === 0, 5000, 10)

  await runCheck(httpCheck(`${up.base}/health`, { method: 'HEAD', headers: { 'x-probe': 'yes' } }).check)
  t.match(up.seen.at(-1), { method: 'HEAD', headers: { 'x-probe': 'yes' } }, 'method and headers sent')
  t.match(await runCheck(httpCheck(up.base, { warn: 0, componentId: 'api' }).check), {
    componentId: 'api', status: 'warn', output: /^time to answer [\d.]+ ms is at or above the warn threshold of 0 ms$/
  })
})

test('the expected statuses: default 200-399, a code, a list, a range', async (t) => {
  const up = await upstream(t, (req, res) => { res.writeHead(Number((req.url as string).slice(1))).end() })
  const cases: Array<[number, unknown, string, string?]> = [
    [204, undefined, 'pass'],
    [399, undefined, 'pass'],
    [503, undefined, 'fail', 'HTTP 503, expected 200-399'],
    [404, undefined, 'fail', 'HTTP 404, expected 200-399'],
    [204, 204, 'pass'],
    [200, 204, 'fail', 'HTTP 200, expected 204'],
    [503, [200, 503], 'pass'],
    [500, [200, 204], 'fail', 'HTTP 500, expected 200, 204'],
    [401, { min: 400, max: 401 }, 'pass']
  ]
  for (const [code, expect, status, output] of cases) {
    const reading = await runCheck(httpCheck(`${up.base}/${code}`, { expect } as never).check)
    t.match(reading, { status, observedUnit: 'ms' }, `${code} against ${JSON.stringify(expect)}`)
    t.equal(reading.output, output)
  }
})

test('the accept predicate: true, false, async, throwing, and not asked for a bad status', async (t) => {
  const up = await answering(t, 200, '{"ready":true}', 'application/json', { 'x-version': '7' })
  let shown: HttpCheckAnswer | undefined
  t.match(await runCheck(httpCheck(up.base, { accept: (answer) => { shown = answer; return true } }).check), { status: 'pass' })
  t.match(shown, { status: 200, headers: { 'x-version': '7', 'content-type': 'application/json' }, body: '{"ready":true}', truncated: false })
  t.match(await runCheck(httpCheck(up.base, { accept: async (answer) => JSON.parse(answer.body).ready === true }).check), { status: 'pass' })
  t.match(await runCheck(httpCheck(up.base, { accept: () => false }).check), { status: 'fail', output: 'HTTP 200: rejected by the accept predicate' })
  const threw = await runCheck(httpCheck(up.base, { accept: () => { throw new TypeError('no\nway') } }).check)
  t.match(threw, { status: 'fail', output: 'HTTP 200: the accept predicate threw TypeError: no way' })
  t.notMatch(threw.output, /\bat /, 'no stack')

  let calls = 0
  const failing = await answering(t, 500)
  t.match(await runCheck(httpCheck(failing.base, { accept: () => { calls++; return true } }).check), { status: 'fail', output: 'HTTP 500, expected 200-399' })
  t.equal(calls, 0, 'the predicate is not asked about a status already refused')
})

test('redirects: judged as they are by default, followed when asked, within the bound', async (t) => {
  const other = await answering(t, 200, 'elsewhere')
  const up = await upstream(t, (req, res) => {
    const to: Record<string, string> = {
      '/moved': '/target', '/loop': '/loop', '/ftp': 'ftp://files.test/x', '/bad': 'http://[', '/away': `${other.base}/there?token=x`
    }
    const location = to[req.url as string]
    if (location !== undefined) res.writeHead(302, { location }).end()
    else if (req.url === '/choices') res.writeHead(300).end()
    else res.writeHead(200).end('target')
  })
  t.match(await runCheck(httpCheck(`${up.base}/moved`).check), { status: 'pass' }, 'a 302 is in the default range')
  t.match(await runCheck(httpCheck(`${up.base}/moved`, { expect: 200 }).check), { status: 'fail', output: 'HTTP 302, expected 200' })
  t.same(up.seen.map((seen) => seen.url), ['/moved', '/moved'], 'not followed by default')

  up.seen.length = 0
  t.match(await runCheck(httpCheck(`${up.base}/moved`, { expect: 200, followRedirects: 1 }).check), { status: 'pass', componentId: `${up.base}/moved` })
  t.same(up.seen.map((seen) => seen.url), ['/moved', '/target'], 'followed once')

  up.seen.length = 0
  t.match(await runCheck(httpCheck(`${up.base}/loop`, { followRedirects: 2 }).check), { status: 'fail', output: 'more than 2 redirects' })
  t.equal(up.seen.length, 3, 'the first request and two hops, no more')
  t.match(await runCheck(httpCheck(`${up.base}/ftp`, { followRedirects: 1 }).check), { status: 'fail', output: 'redirected to a ftp: URL' })
  t.match(await runCheck(httpCheck(`${up.base}/bad`, { followRedirects: 1 }).check), { status: 'fail', output: 'the redirect location is not a URL' })
  t.match(await runCheck(httpCheck(`${up.base}/choices`, { expect: 300, followRedirects: 1 }).check), { status: 'pass' }, 'no location: judged as is')
  await waitFor('every connection to close', () => up.open() === 0, 5000, 10)

  // Credentials go to the target's origin only: kept on the same origin, dropped for another.
  up.seen.length = 0
  const headers = { authorization: 'Bearer t0ken', Cookie: 'sid=1', 'x-probe': 'yes' }
  await runCheck(httpCheck(`http://alice:pw@127.0.0.1:${up.port}/moved`, { followRedirects: 1 }).check)
  t.equal(up.seen[1].headers.authorization, `Basic ${Buffer.from('alice:pw').toString('base64')}`, 'same origin: credentials kept')
  const away = await runCheck(httpCheck(`http://alice:pw@127.0.0.1:${up.port}/away`, { followRedirects: 1, headers }).check)
  t.match(away, { status: 'pass', componentId: `${up.base}/away` })
  t.match(other.seen, [{ url: '/there?token=x' }])
  for (const name of ['authorization', 'cookie', 'x-probe']) t.equal(other.seen[0].headers[name], undefined, `another origin: no ${name}`)
})

test('a redirect to another origin sends none of the user\'s headers but accept, accept-language and user-agent', async (t) => {
  // Two loopback servers on two ports: two origins. /there on `other` sends back to `up`.
  let upBase = ''
  const other = await upstream(t, (req, res) => {
    if (req.url === '/back') res.writeHead(302, { location: `${upBase}/home` }).end()
    else res.writeHead(200).end('elsewhere')
  })
  const up = await upstream(t, (req, res) => {
    const to: Record<string, string> = { '/same': '/home', '/away': `${other.base}/there`, '/round': `${other.base}/back` }
    const location = to[req.url as string]
    if (location !== undefined) res.writeHead(307, { location }).end()
    else res.writeHead(200).end('home')
  })
  upBase = up.base
  const headers = { 'x-api-key': 'k3y', 'X-Auth-Token': 't0k', authorization: 'Bearer b3arer', cookie: 'sid=1', Accept: 'text/plain', 'accept-language': 'fr', 'user-agent': 'orders-health' }
  const described = { accept: 'text/plain', 'accept-language': 'fr', 'user-agent': 'orders-health' }
  const secrets = { 'x-api-key': 'k3y', 'x-auth-token': 't0k', authorization: 'Bearer b3arer', cookie: 'sid=1' }

  t.match(await runCheck(httpCheck(`${up.base}/same`, { followRedirects: 1, headers }).check), { status: 'pass' })
  t.match(up.seen, [{ url: '/same', headers: { ...secrets, ...described } }, { url: '/home', headers: { ...secrets, ...described } }],
    'the same origin: every header, x-api-key included, sent again')

  t.match(await runCheck(httpCheck(`${up.base}/away`, { followRedirects: 1, headers }).check), { status: 'pass' })
  t.match(other.seen, [{ url: '/there', headers: described }], 'another origin: the describing headers only')
  for (const name of Object.keys(secrets)) t.equal(other.seen[0].headers[name], undefined, `another origin: no ${name}`)

  up.seen.length = 0
  other.seen.length = 0
  t.match(await runCheck(httpCheck(`http://alice:pw@127.0.0.1:${up.port}/round`, { followRedirects: 2, headers }).check), { status: 'pass' })
  t.same(up.seen.map((seen) => seen.url), ['/round', '/home'])
  t.equal(up.seen[0].headers.authorization, 'Bearer b3arer', 'the first hop has them all (the header wins over the URL\'s Basic)')
  for (const seen of [other.seen[0], up.seen[1]]) {
    for (const name of Object.keys(secrets)) t.equal(seen.headers[name], undefined, `${seen.url}: no ${name}`)
    t.match(seen.headers, described)
  }
  t.pass('once dropped, never sent again, not even back on the first origin')
})

test('an application/health+json upstream: its status counts, its output is carried over, bounded', async (t) => {
  const documents: Record<string, [number, unknown, string?]> = {
    '/warn': [200, { status: 'warn', output: 'disk\n  91% full' }],
    '/fail': [503, { status: 'fail', output: 'x'.repeat(2000) }],
    '/down': [200, { status: 'Down' }],
    '/ok': [200, { status: 'ok', output: 'fine' }],
    '/odd': [200, { status: 'great' }],
    '/null': [200, null],
    '/broken': [200, '{"status":"fail"'],
    '/plain-json': [200, { status: 'fail' }, 'application/json']
  }
  const up = await upstream(t, (req, res) => {
    const [code, document, type = 'application/health+json; charset=utf-8'] = documents[req.url as string]
    res.writeHead(code, { 'content-type': type }).end(typeof document === 'string' ? document : JSON.stringify(document))
  })
  t.match(await runCheck(httpCheck(`${up.base}/warn`).check), { status: 'warn', output: 'upstream warn: disk 91% full', observedUnit: 'ms' })
  const failed = await runCheck(httpCheck(`${up.base}/fail`).check)
  t.equal(failed.status, 'fail')
  t.match(failed.output, /^HTTP 503, expected 200-399; upstream fail: x{100}/)
  t.ok((failed.output as string).length <= 512, 'bounded to 512 characters')
  t.match(await runCheck(httpCheck(`${up.base}/down`).check), { status: 'fail', output: 'upstream fail' }, 'an alias, case-insensitive')
  for (const path of ['/ok', '/odd', '/null', '/broken', '/plain-json']) {
    const reading = await runCheck(httpCheck(`${up.base}${path}`).check)
    t.match(reading, { status: 'pass' }, `${path}: the status code decides`)
    t.equal(reading.output, undefined)
  }
  t.match(await runCheck(httpCheck(`${up.base}/warn`, { maxBodyBytes: 10 }).check), { status: 'pass' }, 'a cut document is not read')
  t.match(await runCheck(httpCheck(`${up.base}/warn`, { fail: 0 }).check), { status: 'fail', output: /^time to answer .* fail threshold/ }, 'the worst wins')
})

test('a huge body: reading stops at the bound, the server sees the client go, the status decides', async (t) => {
  let writes = 0
  const up = await upstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    const chunk = Buffer.alloc(16 * 1024, 'a')
    // Bounded: 64 MiB at most, or until the client goes.
    const pump = (): void => {
      while (!res.destroyed && writes < 4096) {
        writes++
        if (!res.write(chunk)) { res.once('drain', pump); return }
      }
      res.end()
    }
    pump()
  })
  let shown: HttpCheckAnswer | undefined
  const reading = await runCheck(httpCheck(up.base, { maxBodyBytes: 1000, accept: (answer) => { shown = answer; return true } }).check)
  t.match(reading, { status: 'pass' })
  t.equal(shown?.body.length, 1000, 'the first 1000 bytes')
  t.equal(shown?.truncated, true)
  await waitFor('the server to see the client go', () => up.open() === 0, 5000, 10)
  t.ok(writes < 4096, 'the server stopped writing early')
  t.match(await runCheck(httpCheck(up.base, { expect: 204 }).check), { status: 'fail', output: 'HTTP 200, expected 204' }, 'judged by its status')

  await runCheck(httpCheck(up.base, { accept: (answer) => { shown = answer; return true } }).check)
  t.equal(shown?.body.length, 64 * 1024, 'the default bound: 64 KiB')
  await runCheck(httpCheck(up.base, { maxBodyBytes: 0, accept: (answer) => { shown = answer; return true } }).check)
  t.equal(shown?.body, '', 'maxBodyBytes 0 reads nothing')
  await waitFor('every connection to close', () => up.open() === 0, 5000, 10)
})

test('a reset, a closed port, a TLS mismatch: fail in one line', async (t) => {
  const up = await upstream(t, (req, res) => {
    if (req.url === '/early') { req.socket.destroy(); return }
    res.writeHead(200, { 'content-length': '1000' })
    res.write('partial')
    setTimeout(() => res.socket?.destroy(), 20)
  })
  const cut = await runCheck(httpCheck(`${up.base}/mid`).check)
  t.match(cut, { status: 'fail', componentId: `${up.base}/mid`, output: /^Error: HTTP 200 answer cut short \(.+\)$/ })
  t.match(await runCheck(httpCheck(`${up.base}/early`).check), { status: 'fail', output: /socket hang up/ })
  const port = await freePort()
  const refused = await runCheck(httpCheck(`http://127.0.0.1:${port}/health`).check)
  t.match(refused, { status: 'fail', componentId: `http://127.0.0.1:${port}/health`, output: /ECONNREFUSED/ })
  for (const reading of [cut, refused]) t.notMatch(reading.output, /\n|\bat /, 'one line, no stack')
  // https: speaks TLS, which a plain HTTP server cannot answer.
  const tls = await runCheck(httpCheck(`https://127.0.0.1:${up.port}/health`).check)
  t.match(tls, { status: 'fail', componentId: `https://127.0.0.1:${up.port}/health`, output: /SSL|EPROTO|wrong version/i })
  await waitFor('every connection to close', () => up.open() === 0, 5000, 10)
})

test('credentials and a query token: sent, never shown in the answer or the logs', async (t) => {
  const up = await answering(t, 503, 'down')
  const url = `http://alice:s3cr%40t@127.0.0.1:${up.port}/private?token=abc123#frag`
  const reading = await runCheck(httpCheck(url).check)
  t.match(up.seen, [{ url: '/private?token=abc123', headers: { authorization: `Basic ${Buffer.from('alice:s3cr@t').toString('base64')}` } }])
  t.equal(reading.componentId, `http://127.0.0.1:${up.port}/private`, 'no credentials, query or fragment')
  t.notMatch(JSON.stringify(reading), /alice|s3cr|abc123|frag/)
  const refused = await runCheck(httpCheck(`http://alice:s3cr%40t@127.0.0.1:${await freePort()}/?token=abc123`).check)
  t.notMatch(JSON.stringify(refused), /alice|s3cr|abc123/, 'nor in a failure')

  const { app, lines } = loggedApp()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true })
  app.health.addCheck('private', httpCheck(url))
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const got = await request(`${base}/health`)
  t.equal(got.statusCode, 503)
  t.same(draftErrors(got.body), [])
  t.match(got.body, { checks: { private: [{ status: 'fail', output: 'HTTP 503, expected 200-399' }] } })
  t.notMatch(got.text, /alice|s3cr|abc123/, 'not in the answer')
  t.ok(lines.some((line) => line.output !== undefined), 'the failure was logged')
  t.notMatch(JSON.stringify(lines), /alice|s3cr|abc123/, 'not in the logs')
})

test('a hang: abort destroys the socket, the server sees the connection close', async (t) => {
  const up = await upstream(t, () => {})
  const aborted = new AbortController()
  aborted.abort(new Error('already'))
  await t.rejects(runCheck(httpCheck(up.base).check, aborted.signal), { message: 'already' })
  t.equal(up.accepted(), 0, 'no request when aborted before the start')

  const before = openSockets()
  const abort = new AbortController()
  const pending = runCheck(httpCheck(up.base).check, abort.signal)
  await waitFor('the request', () => up.seen.length === 1, 5000, 10)
  abort.abort(new Error('stop'))
  await t.rejects(pending, { message: 'stop' })
  await waitFor('the server to see the close', () => up.open() === 0, 5000, 10)
  await waitFor('the client socket to close', () => newSockets(before).length === 0, 5000, 10)
  t.strictSame({ open: up.open(), sockets: newSockets(before) }, { open: 0, sockets: [] }, 'nothing left behind')
})

test('a hang through the plugin: within the timeout, then no socket or timer left', async (t) => {
  const up = await upstream(t, () => {})
  const sockets = openSockets()
  const timersBefore = activeTimers()
  const app = await workingApp(t, { exposeDetails: true })
  await expectTimeoutThroughPlugin(t, app, 'api:responseTime', httpCheck(up.base).check)
  await waitFor('the server to see the close', () => up.accepted() === 1 && up.open() === 0, 5000, 10)
  await waitFor('the client socket to close', () => newSockets(sockets).length === 0, 5000, 10)
  await app.close()
  t.equal(activeTimers(), timersBefore, 'no timer left')
})

test('through the plugin: single flight, over inject and real HTTP', async (t) => {
  const up = await upstream(t, (_req, res) => { setTimeout(() => res.writeHead(200).end('ok'), 100) })
  const app = await workingApp(t, { exposeDetails: true })
  app.health.addCheck('api', httpCheck(`${up.base}/health?token=x`), { cacheFor: 60_000 })
  const answers = await Promise.all(Array.from({ length: 20 }, () => app.inject('/health')))
  t.equal(up.seen.length, 1, 'twenty concurrent requests, one upstream request')
  for (const res of answers) {
    t.equal(res.statusCode, 200)
    t.same(draftErrors(res.json()), [])
  }
  t.match((answers[0].json() as HealthResponse).checks?.api, [{ componentId: `${up.base}/health`, status: 'pass', observedUnit: 'ms' }])

  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const got = await request(`${base}/health`)
  t.equal(got.statusCode, 200)
  t.same(draftErrors(got.body), [])
  t.match(got.body, { status: 'pass', checks: { api: [{ status: 'pass' }] } })

  const warn = await answering(t, 200, JSON.stringify({ status: 'warn', output: 'slow replica' }), 'application/health+json')
  const warning = await workingApp(t, { exposeDetails: true })
  warning.health.addCheck('replica', httpCheck(warn.base))
  const warned = await request(`${await warning.listen({ host: '127.0.0.1', port: 0 })}/health`)
  t.equal(warned.statusCode, 202)
  t.same(draftErrors(warned.body), [])
  t.match(warned.body, { status: 'warn', checks: { replica: [{ status: 'warn', output: 'upstream warn: slow replica' }] } })
})
