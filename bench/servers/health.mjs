// fastify-health, state only: registered with a service name, set to Working; GET /health.
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { announce, listenPort, HOST } from './_serve.mjs'

const app = Fastify()
await app.register(fastifyHealth, 'bench')
app.health.setStateWorking()

await app.listen({ host: HOST, port: listenPort() })
announce({ target: 'health', port: app.server.address().port, path: '/health' })
