// A bare Fastify route sending a prebuilt string: the body in BENCH_BODY_FILE, as
// application/health+json with the plugin's default Cache-Control header. What sending a health
// answer of that size costs, with none of the plugin's work: the baseline of bench/scaling.mjs's
// targets that show their details.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { announce, listenPort, HOST } from './_serve.mjs'

const body = readFileSync(process.env.BENCH_BODY_FILE, 'utf8')
const app = Fastify()
app.get('/', (_request, reply) => {
  reply.type('application/health+json; charset=utf-8').header('cache-control', 'max-age=5').send(body)
})
await app.listen({ host: HOST, port: listenPort() })
announce({ target: process.env.BENCH_TARGET ?? 'prebuilt-body', port: app.server.address().port, path: '/' })
