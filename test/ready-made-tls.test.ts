import { writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { join, relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls'
import t, { test, type Test } from 'tap'
import Fastify from 'fastify'
import fastifyHealth, { type ComponentDetail, type HealthResponse, State } from '../lib/index.js'
import { dialAddress, tlsCertificateCheck, type TlsCertificateTarget } from '../lib/checks/tls.js'
import { draftErrors } from './draft-validator.js'
import { request, workingApp } from './helpers.js'
import { bundle, createPki, fromNow, issue, type Issued } from './servers/certificates.js'
import { freePort, scratchDir, waitFor } from './servers/common.js'

// tlsCertificateCheck against certificates made here with openssl, served by real node:tls and
// Fastify HTTPS servers on 127.0.0.1. Each bound is now + N days + 1 hour, so that the floored
// days left is exactly N while the test runs.

const scratch = await scratchDir('tls')
t.teardown(scratch.remove)
const pki = await createPki(scratch.path)
const [year, soon, expired, future, shortChain, alpha, beta, local, noCn] = await Promise.all([
  pki.leaf('year.test', fromNow(-1), fromNow(365, 1)),
  pki.leaf('soon.test', fromNow(-1), fromNow(10, 1)),
  pki.leaf('expired.test', fromNow(-30), fromNow(-2, 1)),
  pki.leaf('future.test', fromNow(2), fromNow(400, 1)),
  pki.leaf('short-chain.test', fromNow(-1), fromNow(365, 1), pki.shortIntermediate),
  pki.leaf('alpha.test', fromNow(-1), fromNow(200, 1)),
  pki.leaf('beta.test', fromNow(-1), fromNow(100, 1)),
  pki.leaf('localhost', fromNow(-1), fromNow(300, 1)),
  issue(scratch.path, { commonName: 'no-cn', subject: '/O=No Name Org', notBefore: fromNow(-1), notAfter: fromNow(50, 1) })
]) as Issued[]

const context = { log: Fastify().log }
const read = async (target: TlsCertificateTarget, options?: Parameters<typeof tlsCertificateCheck>[1], signal = new AbortController().signal): Promise<ComponentDetail> =>
  await tlsCertificateCheck(target, options).check(signal, context) as ComponentDetail

/** openssl keeps whole seconds. */
const iso = (date: Date): string => new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString()

/** A node:tls server on 127.0.0.1 serving `cert` (a chain: leaf first); records the SNI of each handshake. */
async function serveTls (t: Test, key: string, cert: string, options: TlsOptions = {}): Promise<{
  server: TlsServer, port: number, servernames: Array<string | false | null>, failures: Error[]
}> {
  const server = createTlsServer({ key, cert, ...options })
  const servernames: Array<string | false | null> = []
  const failures: Error[] = []
  server.on('secureConnection', (socket) => {
    servernames.push(socket.servername)
    socket.on('error', (error) => failures.push(error))
  })
  server.on('tlsClientError', (error) => failures.push(error))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { server, port: (server.address() as { port: number }).port, servernames, failures }
}

const tlsConnections = (server: TlsServer): Promise<number> =>
  new Promise((resolve, reject) => server.getConnections((error, count) => error === null ? resolve(count) : reject(error)))

test('a remote endpoint serving a chain: days left of the certificate that expires first', async (t) => {
  const { server, port, servernames, failures } = await serveTls(t, year.key, bundle(year, pki.intermediate))
  const reading = await read(`127.0.0.1:${port}`)
  t.strictSame(reading, {
    componentType: 'component',
    componentId: `127.0.0.1:${port}`,
    observedValue: 365,
    observedUnit: 'days',
    status: 'pass',
    subject: 'year.test',
    validTo: iso(year.notAfter)
  })
  // The handshake is ended cleanly: the server sees it complete, then the connection closes.
  await waitFor('the connection to close', async () => servernames.length === 1 && await tlsConnections(server) === 0, 5000)
  t.strictSame(failures.map(String), [], 'no reset, no broken handshake on the server')
})

test('expiring within warnDays: warn, naming the certificate and the date', async (t) => {
  const { port } = await serveTls(t, soon.key, bundle(soon, pki.intermediate))
  const reading = await read({ host: '127.0.0.1', port })
  t.match(reading, { observedValue: 10, status: 'warn', subject: 'soon.test' })
  t.equal(reading.output, `Certificate "soon.test" expires on ${iso(soon.notAfter)} (10 days left, under the warn threshold of 30 days)`)
  t.match(await read({ host: '127.0.0.1', port }, { warnDays: 5 }), { status: 'pass' }, 'warnDays moves the line')
  const failing = await read({ host: '127.0.0.1', port }, { failDays: 15 })
  t.equal(failing.status, 'fail')
  t.equal(failing.output, `Certificate "soon.test" expires on ${iso(soon.notAfter)} (10 days left, under the fail threshold of 15 days)`)
  t.match(await read({ host: '127.0.0.1', port }, { failDays: 5 }), { status: 'warn' }, 'warnDays stays 30 under a failDays of 5')
  t.match(await read({ host: '127.0.0.1', port }, { warnDays: 0, failDays: 0 }), { status: 'pass' })
})

test('an expired certificate is read, not refused: fail with negative days', async (t) => {
  const { port } = await serveTls(t, expired.key, bundle(expired, pki.intermediate))
  const reading = await read(`127.0.0.1:${port}`)
  t.match(reading, { observedValue: -2, status: 'fail', subject: 'expired.test', validTo: iso(expired.notAfter) })
  t.equal(reading.output, `Certificate "expired.test" expired on ${iso(expired.notAfter)}`)
})

test('a certificate not valid yet fails', async (t) => {
  const { port } = await serveTls(t, future.key, bundle(future, pki.intermediate))
  const reading = await read(`127.0.0.1:${port}`)
  t.match(reading, { observedValue: 400, status: 'fail', subject: 'future.test' })
  t.equal(reading.output, `Certificate "future.test" is not valid before ${iso(future.notBefore)}`)
})

test('a chain whose intermediate expires first: the intermediate counts (server, PEM file and PEM text)', async (t) => {
  const chain = bundle(shortChain, pki.shortIntermediate, pki.root)
  const expected = {
    observedValue: 5,
    status: 'warn',
    subject: 'Short Intermediate CA',
    validTo: iso(pki.shortIntermediate.notAfter),
    output: `Certificate "Short Intermediate CA" expires on ${iso(pki.shortIntermediate.notAfter)} (5 days left, under the warn threshold of 30 days)`
  }
  // The root is sent too: the walk ends where the issuer is the certificate itself.
  const { port } = await serveTls(t, shortChain.key, chain)
  t.match(await read(`127.0.0.1:${port}`), { ...expected, componentType: 'component' })
  const file = join(scratch.path, 'short-chain.pem')
  await writeFile(file, chain)
  t.match(await read({ file }), { ...expected, componentType: 'system', componentId: file })
  t.match(await read({ pem: chain }), { ...expected, componentType: 'system', componentId: 'short-chain.test' })
  t.match(await read(chain), { ...expected, componentId: 'short-chain.test' })
})

test('PEM text: one certificate, named by its subject CN (or its whole subject)', async (t) => {
  t.match(await read(soon.cert), { componentType: 'system', componentId: 'soon.test', observedValue: 10, status: 'warn' })
  t.match(await read({ pem: noCn.cert }), { componentId: 'O=No Name Org', subject: 'O=No Name Org', observedValue: 50, status: 'pass' })
  t.match(await read(soon.cert, { componentId: 'api cert' }), { componentId: 'api cert' })
})

test('a PEM file is read at each run: a renewed certificate is seen, a missing one fails', async (t) => {
  const file = join(scratch.path, 'renewed.pem')
  await writeFile(file, soon.cert)
  const { check } = tlsCertificateCheck({ file: relative(process.cwd(), file) })
  const run = async (): Promise<ComponentDetail> => await check(new AbortController().signal, context) as ComponentDetail
  t.match(await run(), { componentId: file, status: 'warn', subject: 'soon.test' }, 'a relative path is named absolute')
  await writeFile(file, year.cert)
  t.match(await run(), { componentId: file, status: 'pass', subject: 'year.test' })
  await writeFile(file, year.key)
  t.strictSame(await run(), { componentType: 'system', componentId: file, status: 'fail', output: 'Error: No certificate found' })
  const missing = await read({ file: join(scratch.path, 'missing.pem') })
  t.match(missing, { componentType: 'system', status: 'fail', output: /^Error: ENOENT: no such file or directory, open '.*missing\.pem'$/ })
})

test('SNI: the host name is sent, an IP address is not, servername overrides', async (t) => {
  const contexts: Record<string, ReturnType<typeof createSecureContext>> = {
    'alpha.test': createSecureContext({ key: alpha.key, cert: bundle(alpha, pki.intermediate) }),
    'beta.test': createSecureContext({ key: beta.key, cert: bundle(beta, pki.intermediate) }),
    localhost: createSecureContext({ key: local.key, cert: bundle(local, pki.intermediate) })
  }
  const { server, port, servernames } = await serveTls(t, year.key, bundle(year, pki.intermediate), {
    SNICallback: (name, done) => done(null, contexts[name])
  })
  t.match(await read({ host: '127.0.0.1', port }), { subject: 'year.test', observedValue: 365 }, 'no SNI: the default certificate')
  t.match(await read(`localhost:${port}`), { componentId: `localhost:${port}`, subject: 'localhost', observedValue: 300 })
  t.match(await read({ host: '127.0.0.1', port, servername: 'alpha.test' }), { componentId: `127.0.0.1:${port}`, subject: 'alpha.test', observedValue: 200 })
  // The own-server target takes a servername too.
  t.match(await read({ server, servername: 'beta.test' }), { componentType: 'system', componentId: `127.0.0.1:${port}`, subject: 'beta.test' })
  await waitFor('four handshakes', () => servernames.length === 4, 5000)
  t.strictSame(servernames, [false, 'localhost', 'alpha.test', 'beta.test'], 'what the server was sent')
})

test("the app's own HTTPS server: its address, its certificate; not listening is a clear fail", async (t) => {
  const app = Fastify({ https: { key: year.key, cert: bundle(year, pki.intermediate) } })
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK })
  const { check } = tlsCertificateCheck({ server: app.server })
  app.health.addCheck('tls:certificate', check, { cacheFor: 0 })
  t.strictSame(await check(new AbortController().signal, context),
    { componentType: 'system', status: 'fail', output: 'Error: The server is not listening' })

  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200)
  const body = res.json() as HealthResponse
  t.strictSame(draftErrors(body), [], 'a valid draft document')
  t.match(body.checks?.['tls:certificate'], [{
    componentType: 'system', componentId: `127.0.0.1:${port}`, observedValue: 365, observedUnit: 'days', status: 'pass', subject: 'year.test'
  }])
})

test('the own server on a Unix socket: reached by its path', async (t) => {
  const app = Fastify({ https: { key: soon.key, cert: soon.cert } })
  t.teardown(() => app.close())
  await app.ready()
  const path = join(scratch.path, 'https.sock')
  await app.listen({ path })
  t.match(await read({ server: app.server }), { componentType: 'system', componentId: path, subject: 'soon.test', status: 'warn' })
})

test('nothing listening: a failed reading in one line, the componentId kept', async (t) => {
  const port = await freePort()
  const reading = await read(`127.0.0.1:${port}`)
  t.match(reading, { componentType: 'component', componentId: `127.0.0.1:${port}`, status: 'fail', output: /^Error: connect ECONNREFUSED 127\.0\.0\.1:\d+$/ })
  // An IPv6 target is named in brackets, whatever the loopback answers.
  t.match(await read(`[::1]:${port}`), { componentId: `[::1]:${port}`, status: 'fail', output: /^Error: / })
})

/** A TCP server that accepts and never says a word: a TLS handshake to it hangs. */
async function silentServer (t: Test): Promise<{ server: TcpServer, port: number, accepted: () => number }> {
  let accepted = 0
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    accepted++
    sockets.add(socket)
    // Read and never answer: the client's hello is taken, its close is seen.
    socket.resume()
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  }))
  return { server, port: (server.address() as { port: number }).port, accepted: () => accepted }
}

const connections = (server: TcpServer): Promise<number> =>
  new Promise((resolve, reject) => server.getConnections((error, count) => error === null ? resolve(count) : reject(error)))

test('a handshake that hangs: one run for all requests, failed at its timeout, no socket left', async (t) => {
  const { server, port, accepted } = await silentServer(t)
  const app = await workingApp(t)
  app.health.addCheck('tls:certificate', tlsCertificateCheck(`127.0.0.1:${port}`), { timeout: 300 })
  const started = performance.now()
  const answers = await Promise.all(Array.from({ length: 5 }, () => app.inject('/health')))
  const elapsed = performance.now() - started
  t.ok(elapsed < 300 + 1000, `answered within the timeout + 1 s (${Math.round(elapsed)} ms)`)
  for (const answer of answers) {
    t.equal(answer.statusCode, 503)
    t.strictSame(draftErrors(answer.json()), [])
    t.match(answer.json().checks['tls:certificate'], [{ status: 'fail', output: 'Timed out after 300 ms' }])
  }
  t.equal(accepted(), 1, 'single flight: one connection for five requests')
  await waitFor('the check to close its socket', async () => await connections(server) === 0, 5000)
})

test('the signal: an abort destroys the socket, an aborted signal connects nowhere', async (t) => {
  const { server, port, accepted } = await silentServer(t)
  const abort = new AbortController()
  const reading = read({ host: '127.0.0.1', port }, {}, abort.signal)
  await waitFor('the connection', () => accepted() === 1, 5000)
  abort.abort(new Error('stop now'))
  await t.rejects(reading, { message: 'stop now' }, 'the reason, for the runner to report')
  await waitFor('the socket to close', async () => await connections(server) === 0, 5000)
  await t.rejects(read({ host: '127.0.0.1', port }, {}, AbortSignal.abort()), { name: 'AbortError' })
  t.equal(accepted(), 1, 'no connection for an aborted signal')
})

test('dialAddress: the unspecified addresses are reached over the loopback', async (t) => {
  t.equal(dialAddress('::'), '::1')
  t.equal(dialAddress('0.0.0.0'), '127.0.0.1')
  t.equal(dialAddress('127.0.0.2'), '127.0.0.2')
})

test('bad targets and options throw at once, with stable codes', async (t) => {
  const corrupt = soon.cert.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA')
  const targets: unknown[] = [
    42, null, ['127.0.0.1:443'], {}, { host: '127.0.0.1', port: 443, extra: 1 }, 'nonsense', 'host:99999', ':443', 'a b:443',
    { host: 1, port: 443 }, { host: '', port: 443 }, { host: 'x', port: 0 }, { host: 'x', port: '443' },
    { host: 'x', port: 443, servername: '10.0.0.1' }, { host: 'x', port: 443, servername: '' }, { host: 'x', port: 443, servername: 5 },
    { pem: 5 }, { pem: 'hello' }, '-----BEGIN PRIVATE KEY-----', corrupt, { file: '' }, { file: 5 },
    { server: createHttpServer() }, { server: {} }, { server: createTlsServer(), servername: '::1' }
  ]
  for (const target of targets) {
    t.throws(() => tlsCertificateCheck(target as TlsCertificateTarget), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' }, JSON.stringify(target))
  }
  t.throws(() => tlsCertificateCheck('secret.example.com'), { message: /got a string that is neither host:port nor PEM text$/ })
  t.throws(() => tlsCertificateCheck({} as never), { message: /got an object with the keys \(none\)$/ })
  const options: unknown[] = [
    'soon', { bogus: 1 }, { warn: 100 }, { fail: 100 }, { componentId: 5 }, { warnDays: -1 }, { warnDays: Number.NaN },
    { failDays: '7' }, { warnDays: 5, failDays: 10 }
  ]
  for (const option of options) {
    t.throws(() => tlsCertificateCheck(soon.cert, option as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(option))
  }
  t.throws(() => tlsCertificateCheck(soon.cert, { failDays: 10, warnDays: 5 }), { message: /"warnDays" is 5, below failDays 10/ })
  t.match(await read(soon.cert, { failDays: 40 }), { status: 'fail', output: /under the fail threshold of 40 days/ }, 'warnDays follows a larger failDays')
})

test('through the plugin over real HTTP: valid answers, a warn makes /health 202, an expiry 503', async (t) => {
  const good = await serveTls(t, year.key, bundle(year, pki.intermediate))
  const warning = await serveTls(t, soon.key, bundle(soon, pki.intermediate))
  const app = await workingApp(t, { checks: { 'tls:api': tlsCertificateCheck(`127.0.0.1:${good.port}`) } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const passing = await request(`${base}/health`)
  t.equal(passing.statusCode, 200)
  t.strictSame(draftErrors(passing.body), [], 'a valid draft document (pass)')

  app.health.addCheck('tls:partner', tlsCertificateCheck({ host: '127.0.0.1', port: warning.port }))
  const warned = await request(`${base}/health`)
  t.equal(warned.statusCode, 202)
  t.strictSame(draftErrors(warned.body), [], 'a valid draft document (warn)')
  t.match((warned.body as HealthResponse).checks?.['tls:partner'], [{ status: 'warn', observedValue: 10, observedUnit: 'days', output: /soon\.test/ }])

  app.health.addCheck('tls:file', tlsCertificateCheck({ pem: expired.cert }))
  const failed = await request(`${base}/health`)
  t.equal(failed.statusCode, 503)
  t.strictSame(draftErrors(failed.body), [], 'a valid draft document (fail)')
  t.match((failed.body as HealthResponse).checks?.['tls:file'], [{ status: 'fail', componentId: 'expired.test', output: /expired on/ }])
  const injected = await app.inject('/health')
  t.strictSame(draftErrors(injected.json()), [], 'a valid draft document (inject)')
  t.equal(injected.statusCode, 503)
})
