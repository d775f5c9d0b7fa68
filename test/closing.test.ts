// Once shutdown() or close() has begun, the state stays Shutting down: nothing puts a draining
// service back in rotation. And closing works on every kind of server.
import Fastify from 'fastify'
import { test } from 'tap'
import { State } from '../lib/index.js'
import { loggedApp, schemaErrors } from './helpers.js'
import fastifyHealth from '../lib/index.js'

for (const how of ['shutdown()', 'close()'] as const) {
  test(`after ${how} begins, setState*() is ignored and logged`, async (t) => {
    const { app, lines } = loggedApp()
    t.teardown(() => app.close())
    await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', shutdownDelay: 200, logLevel: 'silent' })
    app.health.setStateWorking()
    // A late warm-up timer, say, firing while the instance closes (after the plugin's preClose).
    const lateTimer = (): void => {
      app.health.setStateWorking()
      app.health.setState(State.NOINFO)
      t.equal(app.health.state, State.SHUTDOWN, 'still Shutting down')
    }
    if (how === 'close()') app.addHook('preClose', async () => lateTimer())
    await app.ready()

    const closing = how === 'shutdown()' ? app.health.shutdown() : app.close()
    if (how === 'shutdown()') {
      t.equal(app.health.state, State.SHUTDOWN, 'Shutting down at once')
      lateTimer()
      const ready = await app.inject('/health/ready')
      t.equal(ready.statusCode, 503, 'readiness stays 503 during the drain')
      t.same(schemaErrors(ready.json()), [])
    }
    await closing
    const ignored = lines.filter((line) => line.msg === 'fastify-health: the service is shutting down; state change ignored')
    t.same(ignored.map((line) => line.state), [State.WORK, State.NOINFO], 'each ignored change logged with the state asked for')
    t.equal(ignored[0]?.level, 40, 'at warn level')
    t.equal(app.health.state, State.SHUTDOWN)
  })
}

test('invalid values are still rejected while closing', async (t) => {
  const { app } = loggedApp()
  await app.register(fastifyHealth, 'orders')
  await app.close()
  t.throws(() => app.health.setState('Up' as State), { code: 'FST_HEALTH_INVALID_STATE' })
  app.health.setStateShutDown()
  t.equal(app.health.state, State.SHUTDOWN, 'asking for Shutting down again is a no-op')
})

test('an HTTP/2 server closes (its sessions are closed, not swept: see http2-https.test.ts)', async (t) => {
  const app = Fastify({ http2: true })
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'orders', initialState: 'Working' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await app.inject('/health')
  t.equal(res.statusCode, 200)
  t.same(schemaErrors(res.json()), [])
  await app.close()
  t.equal(app.health.state, 'Shutting down', 'closed, and the state said so')
})
