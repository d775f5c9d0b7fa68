// fastify-health, state only, registered with the options in BENCH_HEALTH_OPTIONS (JSON; the
// service name 'bench' by default): the variants bench/probe-routes.mjs compares.
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { announce, listenPort, HOST } from './_serve.mjs'

const options = { serviceName: 'bench', ...JSON.parse(process.env.BENCH_HEALTH_OPTIONS ?? '{}') }
const app = Fastify()
await app.register(fastifyHealth, options)
app.health.setStateWorking()

await app.listen({ host: HOST, port: listenPort() })
announce({ target: process.env.BENCH_TARGET ?? 'health-options', port: app.server.address().port, path: options.path ?? '/health' })
