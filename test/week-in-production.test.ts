// The defects a week in production would meet, each as a user meets it over the public API:
// answers that contradict their own status, secrets served and logged, a close() that leaves runs,
// timers and listeners behind, a check named __proto__, failed entries that lose their kind.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { test } from 'tap'
import fastifyHealth, { type HealthResponse, State } from '../lib/index.js'
import { childEnv, gate, getAnswer, listeningApp, loggedApp, request, schemaErrors, STACK_FRAME, until, workingApp } from './helpers.js'

test('an answer never contradicts itself: a check turns to fail, another is added, then a request', async (t) => {
  let failing = false
  const app = await workingApp(t, { checks: { a: { check: () => ({ status: failing ? 'fail' : 'pass' }), cacheFor: 1 } } })
  t.equal((await getAnswer(t, app)).body.status, 'pass')
  failing = true
  await sleep(5)
  app.health.addCheck('b', () => ({ status: 'fail' }))
  const { statusCode, body } = await getAnswer(t, app)
  const failingEntries = Object.values(body.checks ?? {}).flat().filter((entry) => entry.status === 'fail')
  t.ok(failingEntries.length > 0, 'an entry fails')
  t.equal(body.status, 'fail', 'so does the answer')
  t.equal(statusCode, 503, 'and its code')
  t.match(body.output, /fail/, 'and its output says why')
})

test('secrets in an app\'s own errors and outputs never reach an answer, report() or a log line', async (t) => {
  const thrown = 'connect ECONNREFUSED postgres://orders:hunter2@db.internal:5432/orders'
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    initialState: State.WORK,
    exposeDetails: true,
    checks: {
      db: () => { throw new Error(thrown) },
      cache: () => ({ status: 'warn', output: 'redis://:s3cr3tpw@cache:6379 slow' }),
      api: () => ({ status: 'fail', output: 'PGPASSWORD=pa/ss@word api_key=abc123 client_secret: "xyz" Authorization: Bearer eyJabc.def' })
    }
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const texts = [
    (await request(`${base}/health`)).text,
    (await request(`${base}/health/ready`)).text,
    (await request(`${base}/health/checks/db`)).text,
    (await request(`${base}/health/checks/api`)).text,
    JSON.stringify(await app.health.report()),
    JSON.stringify(lines)
  ]
  for (const secret of ['hunter2', 's3cr3tpw', 'pa/ss@word', 'abc123', 'xyz', 'eyJabc']) {
    t.notOk(texts.some((text) => text.includes(secret)), `${secret} is nowhere`)
  }
  t.match(texts[0], 'postgres://***@db.internal:5432', 'where the error was, with the credentials masked')
  t.ok(lines.some((line) => line.msg === 'fastify-health: status changed'), 'the status change was logged')
  for (const text of texts) t.notMatch(text, STACK_FRAME, 'no stack frame')
})

test('close() while a check hangs: the run ends with a failed reading, report() and waiting requests settle at once', async (t) => {
  const hung = gate()
  const app = Fastify()
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    initialState: State.WORK,
    exposeDetails: true,
    // Ignores its signal, and would time out only after a minute.
    checks: { db: { check: async () => { await hung.promise }, timeout: 60_000 } }
  })
  await app.ready()
  const waiting = app.inject('/health')
  const reported = app.health.report()
  await sleep(20)
  const started = Date.now()
  await app.close()
  const [answer, report] = await Promise.all([waiting, reported])
  t.ok(Date.now() - started < 5000, 'settled long before the check\'s timeout')
  const body = answer.json() as HealthResponse
  t.same(schemaErrors(body), [])
  t.equal(body.checks?.db?.[0]?.status, 'fail')
  t.match(body.checks?.db?.[0]?.output, /stopped/, 'the entry says the instance stopped')
  t.equal(report.body.checks?.db?.[0]?.status, 'fail', 'report() got the same reading')
  const after = await app.health.report()
  t.equal(after.body.checks?.db?.[0]?.status, 'fail', 'report() after close runs nothing and settles')
  hung.open()
})

test('nothing of the plugin keeps a process alive: shutdown() then close() (a second signal), and close() with a check hanging', async (t) => {
  // The CommonJS build, through require(), as a CommonJS app loads it: the Node.js lines other
  // than the newest load it only here (package.test.ts runs on the newest alone).
  const script = `
    import { createRequire } from 'node:module'
    import Fastify from 'fastify'
    const fastifyHealth = createRequire(import.meta.url)('${fileURLToPath(new URL('../dist/cjs/require.js', import.meta.url))}')
    const app = Fastify()
    await app.register(fastifyHealth, {
      serviceName: 'orders', initialState: 'Working', shutdownDelay: 10000,
      checks: { slow: { check: () => new Promise(() => {}), timeout: 60000 }, loop: { check: () => {}, interval: 50 } }
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    app.inject('/health').catch(() => {})
    app.health.shutdown()
    setTimeout(() => { app.close().then(() => process.stdout.write('closed ' + Date.now() + '\\n')) }, 100)
  `
  // The built package (npm test builds it first).
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let errors = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { errors += chunk.toString() })
  const exited = await new Promise<number>((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('exit', () => { clearTimeout(killer); resolve(Date.now()) })
  })
  const closedAt = Number(/closed (\d+)/.exec(out)?.[1])
  t.ok(Number.isFinite(closedAt), 'the instance closed')
  t.equal(errors, '', 'nothing on stderr')
  t.ok(exited - closedAt < 3000, `the process exited ${exited - closedAt} ms after close() resolved, not after the 10 s delay or the 60 s timeout`)
})

test('a check named __proto__ or constructor is a key like any other', async (t) => {
  const app = await workingApp(t)
  app.health.addCheck('__proto__', () => ({ status: 'fail' }))
  app.health.addCheck('constructor', () => ({ status: 'warn' }))
  const { statusCode, body } = await getAnswer(t, app)
  t.equal(statusCode, 503)
  t.same(Object.keys(body.checks ?? {}).sort(), ['__proto__', 'constructor'], 'both keys are in the document')
  t.equal(Object.getOwnPropertyDescriptor(body.checks, '__proto__')?.value?.[0]?.status, 'fail', 'an own key, not the prototype')
  t.same(schemaErrors(body), [])
})

test('failed entries keep the kind and the identity of the nodes the check named before', async (t) => {
  let mode: 'pass' | 'throw' | 'hang' = 'pass'
  const app = await workingApp(t, {
    checks: {
      kind: { check: async () => { if (mode === 'throw') throw new Error('down'); if (mode === 'hang') await new Promise(() => {}); return { componentType: 'datastore' } }, cacheFor: 0, timeout: 50 },
      nodes: { check: async () => { if (mode === 'throw') throw new Error('down'); if (mode === 'hang') await new Promise(() => {}); return [{ componentId: 'a', componentType: 'datastore' }, { componentId: 'b', componentType: 'datastore' }] }, cacheFor: 0, timeout: 50 }
    }
  })
  await getAnswer(t, app)
  for (const next of ['throw', 'hang'] as const) {
    mode = next
    const { body } = await getAnswer(t, app)
    t.same(body.checks?.kind?.map(({ status, componentType }) => ({ status, componentType })), [{ status: 'fail', componentType: 'datastore' }], `${next}: componentType kept without a componentId`)
    t.same(body.checks?.nodes?.map(({ componentId, componentType }) => [componentId, componentType]), [['a', 'datastore'], ['b', 'datastore']], `${next}: each node kept`)
  }
})

test('notes follow the status: the state\'s words, and whether checks made it worse, naming none', async (t) => {
  const app = await workingApp(t, { exposeDetails: false, checks: { db: () => ({ status: 'fail' }) } })
  const { body } = await getAnswer(t, app)
  t.same(body.notes, ['Service is running, but checks fail'])
  t.notMatch(JSON.stringify(body), /db/, 'no check named when the details are hidden')
  app.health.setStateWarmUp()
  t.same((await getAnswer(t, app)).body.notes, ['Service is not healthy, it is warming up or shutting down, and checks fail'])
})

test('logs an operator can read: draining and closing said as such, a check that fails and passes again', async (t) => {
  let failing = false
  const { app, lines } = loggedApp(t)
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, shutdownDelay: 10, checks: { db: { check: () => ({ status: failing ? 'fail' : 'pass', output: failing ? 'Connection refused' : undefined }), cacheFor: 0 } } })
  await app.inject('/health')
  failing = true
  await app.inject('/health')
  failing = false
  await app.inject('/health')
  await app.health.shutdown()
  const messages = lines.map((line) => `${String(line.level)} ${String(line.msg)}`)
  t.ok(messages.includes('40 fastify-health: check "db" fails (was pass): Connection refused'), 'the failure, with why')
  t.ok(messages.includes('30 fastify-health: check "db" passes again'), 'the recovery, a line of its own')
  t.ok(messages.some((message) => message.startsWith('30 fastify-health: draining: readiness fails from now on, and the instance closes in 10 ms')), 'draining said as such')
  const drained = lines.find((line) => line.msg === 'fastify-health: status changed' && (line.cause as { state?: string })?.state === State.SHUTDOWN)
  t.equal(drained?.level, 30, 'the status change a shutdown causes is info, not a warning')
  t.notOk(lines.some((line) => 'reqId' in line), 'no request log lines for the health routes by default')
})

test('exposeDetails may decide asynchronously; a rejection hides the details and says so', async (t) => {
  const { app, base } = await listeningApp(t, {
    serviceName: 'orders',
    initialState: State.WORK,
    checks: { db: () => ({ status: 'pass' }) },
    exposeDetails: async (request) => {
      await sleep(1)
      if (request.headers['x-token'] === 'bad') throw new Error('token service down: token=abc')
      return request.headers['x-token'] === 'ok'
    }
  })
  const shown = await fetch(`${base}/health`, { headers: { 'x-token': 'ok' } }).then(async (res) => await res.json() as HealthResponse)
  t.ok(shown.checks?.db, 'details for a request the decider allows')
  const hidden = await fetch(`${base}/health`).then(async (res) => await res.json() as HealthResponse)
  t.equal(hidden.checks, undefined, 'none for one it refuses')
  const refused = await fetch(`${base}/health`, { headers: { 'x-token': 'bad' } }).then(async (res) => await res.json() as HealthResponse)
  t.equal(refused.checks, undefined, 'none when it rejects')
  const drill = await fetch(`${base}/health/checks/db`, { headers: { 'x-token': 'ok' } })
  t.equal(drill.status, 200, 'the drill-down follows it too')
  await app.close()
})

test('checks added and removed a hundred times: each close() called once, the answers bounded', async (t) => {
  const app = await workingApp(t, { checks: { steady: () => ({ status: 'pass' }) } })
  let closed = 0
  for (let i = 0; i < 100; i++) {
    app.health.addCheck('churn', { check: () => ({ status: i % 2 === 0 ? 'fail' : 'pass' }), close: () => { closed++ }, cacheFor: 0 })
    await getAnswer(t, app)
    t.equal(app.health.removeCheck('churn'), true)
  }
  await until(t, () => closed === 100, 'every close() called')
  const { statusCode, body } = await getAnswer(t, app)
  t.equal(statusCode, 200)
  t.same(Object.keys(body.checks ?? {}), ['steady'])
})

test('close() of a check: called when the instance closes; one that throws or hangs holds nothing up and leaks no secret', async (t) => {
  const { app, lines } = loggedApp()
  let released = 0
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    checks: {
      good: { check: () => {}, close: async () => { released++ } },
      throws: { check: () => {}, close: () => { throw new Error('release failed for amqp://guest:topsecret@mq') } },
      hangs: { check: () => {}, close: () => new Promise<void>(() => {}), timeout: 100 }
    }
  })
  await app.ready()
  await app.close()
  t.equal(released, 1)
  const text = JSON.stringify(lines)
  t.notMatch(text, 'topsecret')
  t.ok(lines.some((line) => String(line.msg).startsWith('fastify-health: closing check "throws" failed')), 'a close that throws is logged')
  t.ok(lines.some((line) => line.msg === 'fastify-health: closing check "hangs" did not finish within 100 ms'), 'a close that hangs is given up on')
  t.throws(() => app.health.addCheck('late', () => {}, { close: 5 } as never), { code: 'FST_HEALTH_INVALID_CHECK' })
})

test('close() of a check around the instance\'s close: once each, whichever comes first', async (t) => {
  // A reconnect handler during shutdown adds a check after close(), or removes one close() released.
  const closes = { early: 0, late: 0 }
  const app = await workingApp(t, { checks: { early: { check: () => {}, close: () => { closes.early++ } } } })
  await app.close()
  app.health.addCheck('late', { check: () => {}, close: () => { closes.late++ } })
  t.equal(app.health.removeCheck('early'), true)
  t.equal(app.health.removeCheck('late'), true)
  await sleep(10)
  t.same(closes, { early: 1, late: 1 }, 'the one added after close() is released at once; none twice')
})

test('with metrics on, checks keep fresh in the background: no request needed', async (t) => {
  let runs = 0
  const registry = { registerMetric () {}, getSingleMetric () {}, removeSingleMetric () {} }
  const app = Fastify()
  t.teardown(() => app.close())
  const { Registry } = await import('prom-client')
  await app.register(fastifyHealth, {
    serviceName: 'orders',
    prometheus: { registry: new Registry() },
    checks: { db: { check: () => { runs++ }, cacheFor: 20 }, other: { check: () => {}, cacheFor: 0 } }
  })
  t.ok(registry)
  await app.ready()
  await until(t, () => runs >= 3, 'the check ran three times with no request')
})
