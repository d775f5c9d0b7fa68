import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import fastifyHealth, { State } from '../lib/index.js'

test('register with a service name', async () => {
  const app = Fastify()
  expect(app.register(fastifyHealth, 'orders')).type.not.toRaiseError()
  expect(app.register(fastifyHealth, 42)).type.toRaiseError()
  expect(app.health.state).type.toBe<State>()
})
