// rabbitmqCheck against a real RabbitMQ node of its own (a user with a password): amqplib's
// ChannelModel, the callback API's model and a recovering model (amqplib 2's `recovery`) while
// the broker is up, frozen, out of memory (blocked), killed and back; no secret in any answer or
// log line; and the process surviving a connection that crashes it without the check.
import { EventEmitter } from 'node:events'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import amqplib from 'amqplib'
import * as callbackApi from 'amqplib/callback_api'
import t, { type Test } from 'tap'
import { defaults as outage } from '../lib/checks/outage.js'
import { isRabbitmqTarget, rabbitmqCheck } from '../lib/checks/rabbitmq.js'
import type { CheckFunction, ComponentDetail } from '../lib/engine/types.js'
import fastifyHealth, { type HealthResponse, State } from '../lib/index.js'
import { draftErrors } from './draft-validator.js'
import { loggedApp, request, STACK_FRAME } from './helpers.js'
import { freePort, freeze, thaw, waitFor } from './servers/common.js'
import { crashProbe, OUTAGE_LOGGED } from './servers/datastore.js'
import { startRabbitmq } from './servers/rabbitmq.js'

t.setTimeout(300_000)

const TIMEOUT = 500
const CACHE_FOR = 200
// What a 2-core shared machine may add to any wait.
const MARGIN = 1000

const broker = await startRabbitmq()
t.teardown(() => broker.stop())
const { password, url } = broker
const id = `127.0.0.1:${broker.port}`

/** Every answer's text: none may hold the password. */
const texts: string[] = []

/** A reading taken by calling a check directly. */
async function readingOf (check: CheckFunction, signal = new AbortController().signal): Promise<ComponentDetail> {
  return await check(signal, { log: loggedApp().app.log }) as ComponentDetail
}

/** The callback API's connect(), as a promise. */
const connectWithCallbacks = (): Promise<callbackApi.Connection> => new Promise((resolve, reject) => {
  callbackApi.connect(url, (error, model) => { if (error === null) resolve(model); else reject(error) })
})

interface Answer { statusCode: number, body: HealthResponse }

/** GET over real HTTP: a valid document by the draft, no stack frame, answered within TIMEOUT + MARGIN. */
async function get (t: Test, where: string): Promise<Answer> {
  const started = performance.now()
  const got = await request(where)
  const ms = performance.now() - started
  texts.push(got.text)
  const problems = draftErrors(got.body)
  if (problems.length > 0) t.strictSame(problems, [], `${where}: a valid answer by the draft`)
  if (STACK_FRAME.test(got.text)) t.notMatch(got.text, STACK_FRAME, `${where}: no stack frame`)
  if (ms > TIMEOUT + MARGIN) t.fail(`${where} answered after ${Math.round(ms)} ms, more than ${TIMEOUT + MARGIN} ms`)
  return { statusCode: got.statusCode, body: got.body as HealthResponse }
}

const entries = (body: HealthResponse): Record<string, ComponentDetail> =>
  Object.fromEntries(Object.entries(body.checks ?? {}).map(([name, list]) => [name, list[0] as ComponentDetail]))

/** GETs `where` every 100 ms until `wanted` holds for the entries; bounded by `within` ms. */
async function until (t: Test, where: string, what: string, wanted: (checks: Record<string, ComponentDetail>) => boolean, within: number): Promise<Answer> {
  const deadline = performance.now() + within
  for (;;) {
    const got = await get(t, where)
    if (wanted(entries(got.body))) return got
    if (performance.now() > deadline) {
      t.fail(`not ${what} within ${within} ms`, { checks: got.body.checks })
      return got
    }
    await sleep(100)
  }
}

const every = (status: string) => (checks: Record<string, ComponentDetail>): boolean =>
  Object.keys(checks).length > 0 && Object.values(checks).every((entry) => entry.status === status)

t.test('bad targets and options throw at once', async (t) => {
  const model = await amqplib.connect(url)
  t.teardown(() => model.close())
  for (const target of [undefined, null, url, 5672, {}, { createChannel () {} }, model.connection]) {
    t.throws(() => rabbitmqCheck(target as never), { code: 'FST_HEALTH_INVALID_CHECK_TARGET' })
  }
  t.throws(() => rabbitmqCheck(model.connection as never), { message: /not its \.connection\), got an instance of Connection/ })
  for (const options of ['fast', { timeout: 100 }, { warn: -1 }, { warn: 20, fail: 10 }, { componentId: '' }]) {
    t.throws(() => rabbitmqCheck(model, options as never), { code: 'FST_HEALTH_INVALID_CHECK_OPTION' }, JSON.stringify(options))
  }
  t.ok(isRabbitmqTarget(model))
  t.notOk(isRabbitmqTarget(model.connection))
  t.notOk(isRabbitmqTarget(null))
})

t.test('three forms of connection: up, frozen, blocked, killed, back', async (t) => {
  const { app, lines } = loggedApp()
  // No 'error' listener of the application's own on any of them.
  const model = await amqplib.connect(url)
  const withCallbacks = await connectWithCallbacks()
  const recovering = await amqplib.connect(url, { recovery: { initialDelay: 100, maxDelay: 500 } })
  const models = { model, callbacks: withCallbacks, recovering }
  t.teardown(async () => {
    await app.close()
    await model.close().catch(() => {})
    await new Promise((resolve) => { withCallbacks.close(resolve) })
    await recovering.close()
  })
  const settings = { timeout: TIMEOUT, cacheFor: CACHE_FOR }
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'orders',
    initialState: State.WORK,
    checks: {
      model: { ...rabbitmqCheck(model), ...settings },
      callbacks: { ...rabbitmqCheck(withCallbacks), ...settings },
      recovering: { ...rabbitmqCheck(recovering), ...settings }
    }
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const health = `${base}/health`
  const listeners = (): number[] => Object.values(models).map((each) => each.listenerCount('error') + each.listenerCount('close'))
  const logged = (name: string): number => lines.filter((line) => line.check === name && OUTAGE_LOGGED.test(String(line.msg))).length
  // The application's channels, to publish with.
  const publishers = [await model.createChannel(), await recovering.createChannel()]

  await t.test('up: each passes, over inject and real HTTP', async (t) => {
    const injected = await app.inject('/health')
    t.equal(injected.statusCode, 200)
    t.strictSame(draftErrors(injected.json()), [])
    for (const where of [health, `${base}/health/ready`]) {
      const got = await get(t, where)
      t.equal(got.statusCode, 200, where)
      for (const [name, entry] of Object.entries(entries(got.body))) {
        t.match(entry, { componentType: 'component', componentId: id, observedUnit: 'ms', status: 'pass' }, name)
        t.ok(typeof entry.observedValue === 'number' && entry.observedValue >= 0 && entry.observedValue < TIMEOUT, `${name}: ${String(entry.observedValue)} ms`)
      }
      await sleep(CACHE_FOR)
    }
    t.equal(await broker.channels(), 5, 'one channel per check, and the two publishers')
  })

  await t.test('frozen: every answer in time, one round trip per check in flight, nothing piles up', async (t) => {
    await sleep(CACHE_FOR)
    // A check whose channel is still to be opened when the broker freezes.
    const { check: late } = rabbitmqCheck(model)
    const before = listeners()
    await freeze(broker.pid)
    let last: Answer | undefined
    try {
      await t.rejects(readingOf(late, AbortSignal.timeout(200)), 'opening its channel hangs: the run is aborted')
      for (let i = 0; i < 15; i++) {
        last = await get(t, health)
        await sleep(150)
      }
      // Channel 0 is the connection's own.
      const open = (model.connection as unknown as { channels: Array<{ channel: { pending: unknown[] } } | null> }).channels.slice(1)
        .filter((each) => each !== null)
      t.equal(open.length, 3, 'on the model: the check\'s channel, the publisher, the one being opened')
      t.strictSame(open.map((each) => each?.channel.pending.length), [0, 0, 0], 'no round trip queued behind the one in flight')
    } finally {
      await thaw(broker.pid)
    }
    t.equal(last?.statusCode, 503)
    t.match(entries(last?.body as HealthResponse), { model: { status: 'fail', output: `Timed out after ${TIMEOUT} ms` } })
    t.strictSame(listeners(), before, 'no listener added by the runs')
    t.match(await readingOf(late), { status: 'pass', componentId: id }, 'the channel opened meanwhile is used')
    t.equal(await broker.channels(), 6, 'no channel opened by the 15 answers')
  })

  await t.test('thawed: passing again within cacheFor and one run', async (t) => {
    t.equal((await until(t, health, 'passing', every('pass'), CACHE_FOR + TIMEOUT + MARGIN)).statusCode, 200)
  })

  await t.test('blocked by the broker (out of memory): fail at once, then pass when unblocked', async (t) => {
    await broker.ctl('set_vm_memory_high_watermark', 'absolute', '1')
    try {
      // The broker blocks a connection when it publishes.
      for (const publisher of publishers) publisher.publish('amq.direct', 'nowhere', Buffer.from('x'))
      const blocked = await until(t, health, 'blocked', (checks) => checks.model?.output === 'The broker blocked the connection: low on memory' &&
        checks.recovering?.output === 'The broker blocked the connection: low on memory', 5000)
      t.match(entries(blocked.body), { model: { status: 'fail', componentId: id }, callbacks: { status: 'pass' } }, 'only the connections that published')
      t.match(await readingOf(rabbitmqCheck(model).check), { status: 'fail', output: 'The broker blocked the connection: blocked before the check was created' })
    } finally {
      await broker.ctl('set_vm_memory_high_watermark', '0.4')
    }
    await until(t, health, 'passing', every('pass'), 5000)
    t.equal(logged('model'), 1, 'the block logged once')
    // Unblocked for good once the readings passed for outage.ts's settleMs: one info line each.
    const back = (name: string): Array<Record<string, unknown>> =>
      lines.filter((line) => line.check === name && /reachable again$/.test(String(line.msg)))
    await waitFor('a line saying each blocked one is reachable again', async () => {
      await get(t, health)
      return (back('model').length > 0 && back('recovering').length > 0) || undefined
    }, outage.settleMs + 10_000, 100)
    for (const name of ['model', 'recovering']) {
      t.equal(back(name).length, 1, `${name}: one line saying it is back`)
      t.match(back(name)[0], { level: 30, componentId: id, msg: `fastify-health: RabbitMQ ${id} reachable again` })
    }
    t.equal(back('callbacks').length, 0, 'callbacks: never blocked, never said to be back')
  })

  const bare = crashProbe("import amqplib from 'amqplib'; await amqplib.connect(process.env.AMQP_URL); console.log('ready')", { AMQP_URL: url }, process.cwd())
  t.teardown(() => bare.kill())
  await bare.said('ready')

  await t.test('killed: fail at once, no crash, logged once', async (t) => {
    await broker.kill()
    const failed = await until(t, health, 'failing', every('fail'), CACHE_FOR + TIMEOUT + MARGIN)
    t.equal(failed.statusCode, 503)
    t.match(entries(failed.body), {
      model: { componentId: id, output: /^The connection was closed \(Error: / },
      callbacks: { componentId: id, output: /^The connection was closed \(Error: / },
      recovering: { componentId: id, output: /^(Disconnected from the broker, reconnecting|Connecting to the broker failed, retrying) \(/ }
    })
    for (const entry of Object.values(entries(failed.body))) t.notMatch(entry.output, /\n/, 'one line')
    for (let i = 0; i < 5; i++) await get(t, health)
    t.equal((await app.inject('/health/live')).statusCode, 200, 'the app keeps serving')
    t.equal((await get(t, `${base}/health/live`)).statusCode, 200)
    t.equal(logged('model'), 2, 'model: a second outage, a second line')
    t.equal(logged('callbacks'), 1, 'callbacks: once')
    t.equal(logged('recovering'), 2, 'recovering: a second outage, a second line')
    const crashed = await bare.done
    t.not(crashed.code, 0, 'without the check, the broker going away crashed the process')
  })

  await t.test('back: the recovering model passes again; a closed model stays failed', async (t) => {
    await broker.start()
    const back = await until(t, health, 'recovered', (checks) => checks.recovering?.status === 'pass', CACHE_FOR + TIMEOUT + MARGIN + 1000)
    t.match(entries(back.body), { model: { status: 'fail', componentId: id }, callbacks: { status: 'fail' }, recovering: { componentId: id } })
  })

  t.test('secrets: no password in any answer or log line', async (t) => {
    t.ok(texts.length > 20, `${texts.length} answers`)
    for (const text of [...texts, ...lines.map((line) => JSON.stringify(line))]) {
      if (text.includes(password)) t.fail(`the password leaked: ${text}`)
    }
    t.ok(lines.some((line) => OUTAGE_LOGGED.test(String(line.msg))), 'the log lines were looked at')
  })
})

t.test('a connection the application closed fails, and is no outage to log', async (t) => {
  const { app, lines } = loggedApp()
  const model = await amqplib.connect(url)
  const { check } = rabbitmqCheck(model)
  t.match(await readingOf(check), { status: 'pass' })
  await model.close()
  t.match(await check(new AbortController().signal, { log: app.log }), { componentType: 'component', componentId: id, status: 'fail', output: 'The connection was closed' })

  const recovering = await amqplib.connect(url, { recovery: true })
  const { check: recoveringCheck } = rabbitmqCheck(recovering, { componentId: 'orders-broker' })
  await recovering.close()
  t.match(await recoveringCheck(new AbortController().signal, { log: app.log }), { componentId: 'orders-broker', status: 'fail', output: 'Error: Connection closed' })
  t.strictSame(lines, [], 'nothing logged')
})

t.test('a recovering model that cannot connect fails at once, saying why', async (t) => {
  const { app, lines } = loggedApp()
  const deadPort = await freePort()
  const recovering = await amqplib.connect(`amqp://health:${password}@127.0.0.1:${deadPort}`, { recovery: { waitForConnect: false, initialDelay: 50, maxRetries: 2 } })
  t.teardown(() => recovering.close())
  const { check } = rabbitmqCheck(recovering)
  const read = async (): Promise<ComponentDetail> => await check(new AbortController().signal, { log: app.log }) as ComponentDetail
  await waitFor('a failed attempt', async () => (await read()).status === 'fail')
  const failed = await read()
  t.match(failed, { componentType: 'component', status: 'fail', output: /ECONNREFUSED/ })
  t.equal(failed.componentId, undefined, 'no connection yet, so no broker to name')
  await waitFor('recovery to give up', async () => /failed for good/.test(String((await read()).output)), 5000)
  t.equal(lines.filter((line) => OUTAGE_LOGGED.test(String(line.msg))).length, 1, 'logged once')
  t.notMatch(JSON.stringify(lines), password)
})

t.test('thresholds rate the round trip; an aborted run stops at once', async (t) => {
  const model = await amqplib.connect(url)
  t.teardown(() => model.close())
  t.match(await readingOf(rabbitmqCheck(model, { warn: 0 }).check), { status: 'warn', output: /^round trip [\d.]+ ms is at or above the warn threshold of 0 ms$/ })
  t.match(await readingOf(rabbitmqCheck(model, { fail: 0 }).check), { status: 'fail', observedValue: Number })
  const { check } = rabbitmqCheck(model)
  await t.rejects(readingOf(check, AbortSignal.abort(new Error('stopped'))), { message: 'stopped' })
  t.match(await readingOf(check), { status: 'pass' }, 'and the next run passes')
})

t.test('the check\'s channel closed under a round trip: that run fails, the next one opens another', async (t) => {
  const model = await amqplib.connect(url)
  t.teardown(() => model.close())
  const slots = (): Array<{ channel: { close: () => Promise<void> } } | null> =>
    (model.connection as unknown as { channels: Array<{ channel: { close: () => Promise<void> } } | null> }).channels.slice(1)
  const { check } = rabbitmqCheck(model)
  t.match(await readingOf(check), { status: 'pass' })
  const ours = slots().find((slot) => slot !== null)
  // The round trip goes out at once; the close right behind it makes its answer be ignored.
  const reading = readingOf(check)
  const closed = ours?.channel.close()
  t.match(await reading, { status: 'fail', componentId: id, output: 'Error: Channel ended, no reply will be forthcoming' })
  await closed
  t.match(await readingOf(check), { status: 'pass' })
  t.equal(slots().filter((slot) => slot !== null).length, 1, 'one channel again')
})

t.test('a recovering model that connects after the check is made', async (t) => {
  const recovering = await amqplib.connect(url, { recovery: { waitForConnect: false } })
  t.teardown(() => recovering.close())
  const { check } = rabbitmqCheck(recovering)
  await recovering.waitForConnect()
  t.match(await readingOf(check), { status: 'pass', componentId: id }, 'the broker named from its first connection')
})

t.test('a model of the callback API\'s shape, whose failures come in a chosen order', async (t) => {
  // Against the real broker, which of a round trip's rejection and the connection's close event
  // comes first is a race; this model takes each order on purpose, every time.
  const stream = { remoteAddress: '127.0.0.1', remotePort: 5672 }
  let answer: (callback: (error: unknown) => void) => void = (callback) => { callback(null) }
  class Channel extends EventEmitter {
    connection = { stream }
    prefetch (count: number, global: boolean, callback: (error: unknown) => void): void { answer(callback) }
    close (callback: (error: unknown) => void): void { callback(null) }
  }
  let opens = 0
  const model = Object.assign(new EventEmitter(), {
    connection: { stream },
    createChannel (options: undefined, callback: (error: unknown, channel?: Channel) => void): void {
      opens++
      if (opens === 1) callback(new Error('No channels left to allocate'))
      else callback(null, new Channel())
    }
  })
  // The callback API's model, as check-release.test.ts passes it: its types are amqplib's own.
  const { check, close } = rabbitmqCheck(model as never)
  t.match(await readingOf(check), { status: 'fail', componentId: '127.0.0.1:5672', output: 'Error: No channels left to allocate' }, 'a channel that could not open: its error, called back')
  t.match(await readingOf(check), { status: 'pass', componentId: '127.0.0.1:5672' })
  answer = (callback) => { callback(new Error('Channel ended, no reply will be forthcoming')) }
  t.match(await readingOf(check), { status: 'fail', output: 'Error: Channel ended, no reply will be forthcoming' }, 'a round trip the connection still stands behind: its own error')
  answer = (callback) => {
    model.emit('close', new Error('Connection closed: 320 (CONNECTION-FORCED)'))
    callback(new Error('Channel ended, no reply will be forthcoming'))
  }
  t.match(await readingOf(check), { status: 'fail', output: 'The connection was closed (Error: Connection closed: 320 (CONNECTION-FORCED))' }, 'the connection closed before the round trip failed: why it closed')
  await close()
  t.equal(model.listenerCount('close'), 0, 'close() takes its listeners off the model')
})
