// fastify-healthcheck with its defaults, as its README registers it: GET /health answers
// {"statusCode":200,"status":"ok"} (under-pressure inside, with no threshold set).
import Fastify from 'fastify'
import fastifyHealthcheck from 'fastify-healthcheck'
import { announce, listenPort, HOST } from './_serve.mjs'

const app = Fastify()
await app.register(fastifyHealthcheck)

await app.listen({ host: HOST, port: listenPort() })
announce({ target: 'fastify-healthcheck', port: app.server.address().port, path: '/health' })
