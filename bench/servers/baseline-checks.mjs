// Baseline for the checks target: a bare Fastify 5 route returning the same document as
// fastify-health's /health with 10 checks and the process checks (bench/fixtures/checks-body.json,
// an answer of the health-checks target copied once its process checks had settled), through
// the plugin's response schema, so Fastify serializes it with fast-json-stringify per request.
// The answer's size is most of what a response costs a server (the kernel's loopback copy and
// the write); comparing the checks target with a 68-byte baseline would measure the size.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { announce, listenPort, HOST } from './_serve.mjs'
import { createRequire } from 'node:module'

const { HealthResponseSchema } = createRequire(import.meta.url)('../../dist/cjs/schema.js')

const body = JSON.parse(readFileSync(new URL('../fixtures/checks-body.json', import.meta.url), 'utf8'))

const app = Fastify()

app.get('/', {
  schema: { response: { 200: HealthResponseSchema } }
}, async () => body)

await app.listen({ host: HOST, port: listenPort() })
announce({ target: 'baseline-checks', port: app.server.address().port, path: '/' })
