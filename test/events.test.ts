// Status changes on diagnostics_channel: fastify-health:status (the overall status) and
// fastify-health:check (each check's counted status), subscribed to as any tool would; nothing
// published for what is no change, and nothing built while nobody subscribes.
import diagnosticsChannel from 'node:diagnostics_channel'
import { test, type Test } from 'tap'
import fastifyHealth, {
  CHECK_CHANNEL, type HealthCheckStatusMessage, type HealthStatusMessage, State, STATUS_CHANNEL
} from '../lib/index.js'
import { controlledCheck, newApp } from './helpers.js'

/** Subscribes to both channels until the test ends; returns what each received, drained on read. */
function subscribe (t: Test): { status: () => HealthStatusMessage[], check: () => HealthCheckStatusMessage[] } {
  const status: HealthStatusMessage[] = []
  const check: HealthCheckStatusMessage[] = []
  const onStatus = (message: unknown): void => { status.push(message as HealthStatusMessage) }
  const onCheck = (message: unknown): void => { check.push(message as HealthCheckStatusMessage) }
  diagnosticsChannel.subscribe(STATUS_CHANNEL, onStatus)
  diagnosticsChannel.subscribe(CHECK_CHANNEL, onCheck)
  t.teardown(() => {
    diagnosticsChannel.unsubscribe(STATUS_CHANNEL, onStatus)
    diagnosticsChannel.unsubscribe(CHECK_CHANNEL, onCheck)
  })
  return { status: () => status.splice(0), check: () => check.splice(0) }
}

test('the channels\' names', async (t) => {
  t.equal(STATUS_CHANNEL, 'fastify-health:status')
  t.equal(CHECK_CHANNEL, 'fastify-health:check')
})

test('a state change, a failing check and recovery, each published once; no change, no message', async (t) => {
  const seen = subscribe(t)
  const db = controlledCheck()
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', checks: { db: { check: db.check, cacheFor: 0, failureThreshold: 2 } } })
  await app.ready()

  app.health.setStateWorking()
  t.same(seen.status(), [{ serviceName: 'orders', current: 'pass', previous: 'fail' }], 'No information to Working')
  await app.inject('/health')
  t.same(seen.check(), [{ serviceName: 'orders', check: 'db', current: 'pass', previous: undefined }], 'the first reading')
  await app.inject('/health')
  app.health.setStateWorking()
  t.same([seen.status(), seen.check()], [[], []], 'another passing reading, the same state: nothing')

  db.set('fail')
  await app.inject('/health')
  t.same(seen.check(), [{ serviceName: 'orders', check: 'db', current: 'warn', previous: 'pass' }], 'one failing reading of 2 counts as warn')
  t.same(seen.status(), [{ serviceName: 'orders', current: 'warn', previous: 'pass' }])
  await app.inject('/health')
  t.same(seen.check(), [{ serviceName: 'orders', check: 'db', current: 'fail', previous: 'warn' }], 'the second: fail')
  t.same(seen.status(), [{ serviceName: 'orders', current: 'fail', previous: 'warn' }])
  await app.inject('/health')
  t.same([seen.status(), seen.check()], [[], []], 'failing again: nothing')

  db.set('pass')
  await app.inject('/health')
  t.same(seen.check(), [{ serviceName: 'orders', check: 'db', current: 'pass', previous: 'fail' }], 'recovery')
  t.same(seen.status(), [{ serviceName: 'orders', current: 'pass', previous: 'fail' }])

  app.health.removeCheck('db')
  app.health.addCheck('db', () => ({ status: 'fail' }), { critical: false })
  app.health.addCheck('cache', () => ({}))
  await app.inject('/health')
  // The two run together: their messages come in the order their readings do.
  t.same(seen.check().sort((a, b) => a.check.localeCompare(b.check)), [
    { serviceName: 'orders', check: 'cache', current: 'pass', previous: undefined },
    { serviceName: 'orders', check: 'db', current: 'warn', previous: undefined }
  ], 'a failing non-critical check counts as warn; a check added again starts afresh')
  t.same(seen.status(), [{ serviceName: 'orders', current: 'warn', previous: 'pass' }])
})

test('nothing is built or published while nobody subscribes', async (t) => {
  // publish() counted on each channel object (an own property over the prototype's, which Node
  // swaps once a channel has subscribers), taken off again before anyone subscribes.
  const published: unknown[] = []
  const channels = [STATUS_CHANNEL, CHECK_CHANNEL].map((name) => diagnosticsChannel.channel(name))
  const restore = (): void => { for (const channel of channels) delete (channel as Partial<typeof channel>).publish }
  t.teardown(restore)
  for (const channel of channels) channel.publish = (message) => { published.push(message) }
  const db = controlledCheck()
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, checks: { db: { check: db.check, cacheFor: 0 } } })
  await app.inject('/health')
  db.set('fail')
  await app.inject('/health')
  app.health.setStateWarmUp()
  t.equal((await app.inject('/health')).statusCode, 503, 'the changes happened')
  t.same(published, [], 'no message: publish() was never called')
  restore()

  // A subscriber that comes later gets real changes only: the check's status was kept meanwhile.
  const seen = subscribe(t)
  await app.inject('/health')
  t.same(seen.check(), [], 'still failing: nothing')
  db.set('pass')
  await app.inject('/health')
  t.same(seen.check(), [{ serviceName: 'orders', check: 'db', current: 'pass', previous: 'fail' }])
  t.same(seen.status(), [{ serviceName: 'orders', current: 'warn', previous: 'fail' }])
})

test('a check\'s change is published before the overall change it causes, even when a listener then removes the check', async (t) => {
  const seen = subscribe(t)
  const app = newApp(t)
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: State.WORK, checks: { db: () => ({ status: 'fail' }) } })
  app.health.onChange((current) => { if (current === 'fail') app.health.removeCheck('db') })
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200, 'the check was gone by the time the answer was built')
  t.same(seen.status(), [{ serviceName: 'orders', current: 'fail', previous: 'pass' }, { serviceName: 'orders', current: 'pass', previous: 'fail' }])
  t.same(seen.check(), [{ serviceName: 'orders', check: 'db', current: 'fail', previous: undefined }], 'the check\'s first reading, once')
})
