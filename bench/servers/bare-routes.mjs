// A bare Fastify route at /health returning fastify-health's Working answer through a response
// schema (as baseline.mjs does), with other routes beside it that are never requested:
// BENCH_SIBLINGS=none (alone), under (/health/live, /health/ready, /health/started), param
// (/health/:probe), drill (/health/checks/:name), drill-beside (/health-checks/:name) or beside
// (/livez, /readyz, /startz). What the router's shape costs /health.
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import { announce, listenPort, HOST } from './_serve.mjs'

const { HealthResponseSchema } = createRequire(import.meta.url)('../../dist/cjs/schema.js')
const siblings = {
  none: [],
  under: ['/health/live', '/health/ready', '/health/started'],
  param: ['/health/:probe'],
  drill: ['/health/checks/:name'],
  'drill-beside': ['/health-checks/:name'],
  beside: ['/livez', '/readyz', '/startz']
}[process.env.BENCH_SIBLINGS ?? 'none']
if (siblings === undefined) throw new Error(`BENCH_SIBLINGS=${process.env.BENCH_SIBLINGS}: expected none, under, param, drill, drill-beside or beside`)

const app = Fastify()
const body = { status: 'pass', notes: ['Service is running'], serviceId: 'bench' }
const schema = { response: { 200: HealthResponseSchema } }
app.get('/health', { schema }, async () => body)
for (const url of siblings) app.get(url, { schema }, async () => body)

await app.listen({ host: HOST, port: listenPort() })
announce({ target: `bare-${process.env.BENCH_SIBLINGS ?? 'none'}`, port: app.server.address().port, path: '/health' })
