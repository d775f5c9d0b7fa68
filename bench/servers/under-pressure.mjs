// @fastify/under-pressure's status route, as its README sets it up: a maxEventLoopDelay
// threshold (which adds its onRequest check to every request) and exposeStatusRoute: true
// (GET /status answers { status: 'ok' } through a response schema). The README's other
// example thresholds (100 MB heap and RSS, 0.98 event loop utilization) are left out on
// purpose: a saturating benchmark crosses the utilization one and would get 503s by design.
import Fastify from 'fastify'
import underPressure from '@fastify/under-pressure'
import { announce, listenPort, HOST } from './_serve.mjs'

const app = Fastify()
await app.register(underPressure, { maxEventLoopDelay: 1000, exposeStatusRoute: true })

await app.listen({ host: HOST, port: listenPort() })
announce({ target: 'under-pressure', port: app.server.address().port, path: '/status' })
