// fastify-health, state only, with cacheControl: false: the health target without the
// Cache-Control header the draft asks for (the bare baseline sends none). The difference
// between the two is what that one header costs Node's HTTP server; this one is the plugin's
// own cost against the baseline.
import Fastify from 'fastify'
import fastifyHealth from 'fastify-health'
import { announce, listenPort, HOST } from './_serve.mjs'

const app = Fastify()
await app.register(fastifyHealth, { serviceName: 'bench', cacheControl: false })
app.health.setStateWorking()

await app.listen({ host: HOST, port: listenPort() })
announce({ target: 'health-no-cache-header', port: app.server.address().port, path: '/health' })
