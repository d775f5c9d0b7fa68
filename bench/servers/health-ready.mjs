// fastify-health's readiness probe route, /health/ready: the same registration as the
// state-only target. Skipped, with the reason, when the route answers 404.
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { announce, listenPort, skip, HOST } from './_serve.mjs'

const target = 'health-ready'
const path = '/health/ready'

const app = Fastify()
await app.register(fastifyHealth, 'bench')
app.health.setStateWorking()

const probe = await app.inject(path)
if (probe.statusCode === 404) {
  skip(target, `GET ${path} answers 404: the readiness route does not exist`)
} else {
  await app.listen({ host: HOST, port: listenPort() })
  announce({ target, port: app.server.address().port, path })
}
