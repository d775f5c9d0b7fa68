import { test } from 'tap'
import Fastify from 'fastify'
import fastifyHealth from '../lib/index.js'
import { schemaErrors } from './helpers.js'

test('smoke', async (t) => {
  const app = Fastify()
  await app.register(fastifyHealth, 'orders')
  const res = await app.inject('/health')
  t.equal(res.statusCode, 503)
  t.same(schemaErrors(res.json()), [])
})
