// Baseline: a bare Fastify 5 route that returns fastify-health's Working answer (its body
// copied literally) through a response schema (the plugin's HealthResponseSchema, as plain
// JSON Schema), so Fastify serializes it with fast-json-stringify on every request.
//
// With BENCH_WITH_HEALTH=1 the same process also registers fastify-health (state only,
// Working): the pair "bare" / "bare + plugin" gives the RSS the plugin adds. The plugin is
// imported only then, so that the bare process does not load any of its code.
import Fastify from 'fastify'
import { announce, listenPort, HOST } from './_serve.mjs'
import { HealthResponseJsonSchema } from './_schema.mjs'

const target = process.env.BENCH_TARGET ?? 'baseline'
const withHealth = process.env.BENCH_WITH_HEALTH === '1'

const app = Fastify()

app.get('/', {
  schema: { response: { 200: HealthResponseJsonSchema } }
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
