// Baseline: a bare Fastify 5 route that returns fastify-health's Working answer (its body
// copied literally) through a response schema (the plugin's HealthResponseSchema), so Fastify
// serializes it with fast-json-stringify on every request.
//
// With BENCH_WITH_HEALTH=1 the same process also registers fastify-health (state only,
// Working): the pair "bare" / "bare + plugin" gives the RSS the plugin adds. The plugin is
// imported only then; the bare process loads only the schema module, which needs no TypeBox
// at run time and nothing else of the plugin.
import Fastify from 'fastify'
import { announce, listenPort, HOST } from './_serve.mjs'
import { createRequire } from 'node:module'

const { HealthResponseSchema } = createRequire(import.meta.url)('../../dist/cjs/schema.js')

const target = process.env.BENCH_TARGET ?? 'baseline'
const withHealth = process.env.BENCH_WITH_HEALTH === '1'

const app = Fastify()

app.get('/', {
  schema: { response: { 200: HealthResponseSchema } }
}, async () => {
  return { status: 'pass', notes: ['Service is running'], serviceId: 'bench' }
})

if (withHealth) {
  const { default: fastifyHealth } = await import('fastify-health')
  await app.register(fastifyHealth, { serviceName: 'bench' })
  app.health.setStateWorking()
}

await app.listen({ host: HOST, port: listenPort() })
announce({ target, port: app.server.address().port, path: '/' })
