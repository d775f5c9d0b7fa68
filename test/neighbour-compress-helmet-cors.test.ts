// Beside @fastify/compress, @fastify/helmet and @fastify/cors, all global, in one app: the
// answers keep their code, content type and document; large ones are compressed for clients
// that ask; browsers on another origin get their preflight and CORS headers.
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import compress from '@fastify/compress'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'
import { test } from 'tap'
import { besideApp, CONTENT_TYPE, expectHealthAnswer, healthRoutes, rawRequest, schemaErrors, STACK_FRAME } from './helpers.js'

const ORIGIN = 'http://127.0.0.1:5173'
// One entry per node, so that the documents with details are well above compress's 1 KiB threshold.
const checks = {
  db: () => Array.from({ length: 30 }, (_, i) => ({ componentId: `db-${i}.internal:5432`, componentType: 'datastore', observedValue: i, observedUnit: 'ms' }))
}
const decoders: Record<string, (body: Buffer) => Buffer> = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync }

function neighbours (app: FastifyInstance): Promise<unknown> {
  return Promise.all([
    app.register(helmet),
    app.register(cors, { origin: ORIGIN, methods: ['GET', 'HEAD'] }),
    app.register(compress, { global: true })
  ])
}

test('compressed where asked and large enough, the document intact once decoded', async (t) => {
  const { base } = await besideApp(t, { before: neighbours, options: { checks } })
  // The probes without live checks answer a few hundred bytes: under the threshold.
  const large = ['/health', '/health/ready', '/health/checks/db']
  for (const url of healthRoutes) {
    for (const encoding of Object.keys(decoders)) {
      const got = await rawRequest(base + url, { headers: { 'accept-encoding': encoding, origin: ORIGIN } })
      t.equal(got.statusCode, 200, `${url} (${encoding}): 200`)
      t.equal(got.headers['content-type'], CONTENT_TYPE, `${url} (${encoding}): health+json`)
      const compressed = large.includes(url)
      t.equal(got.headers['content-encoding'], compressed ? encoding : undefined, `${url}: ${compressed ? encoding : 'not compressed (under the threshold)'}`)
      const text = (compressed ? (decoders[encoding] as (body: Buffer) => Buffer)(got.body) : got.body).toString('utf8')
      if (compressed) t.ok(got.body.length < text.length, `${url} (${encoding}): ${got.body.length} bytes for ${text.length}`)
      t.same(schemaErrors(JSON.parse(text)), [], `${url} (${encoding}): the document is valid`)
      t.notMatch(text, STACK_FRAME)
      t.equal(got.headers['access-control-allow-origin'], ORIGIN, `${url}: the CORS header`)
      t.equal(got.headers['x-content-type-options'], 'nosniff', `${url}: helmet's headers`)
      t.type(got.headers['content-security-policy'], 'string', `${url}: helmet's CSP`)
    }
    const plain = await rawRequest(base + url)
    t.equal(plain.headers['content-encoding'], undefined, `${url}: identity for a client that asks for no encoding`)
    t.same(schemaErrors(JSON.parse(plain.body.toString('utf8'))), [], `${url}: valid as it is`)
    const head = await rawRequest(base + url, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } })
    t.equal(head.statusCode, 200, `HEAD ${url}: 200`)
    t.equal(head.headers['content-type'], CONTENT_TYPE, `HEAD ${url}: health+json`)
    t.equal(head.body.length, 0, `HEAD ${url}: no body`)
  }
})

test('a failing answer keeps its code and document through the three plugins', async (t) => {
  const { app, base } = await besideApp(t, { before: neighbours, options: { checks } })
  app.health.setStateNoInfo()
  const got = await rawRequest(`${base}/health`, { headers: { 'accept-encoding': 'br' } })
  t.equal(got.statusCode, 503)
  t.equal(got.headers['content-encoding'], 'br')
  const body = JSON.parse(brotliDecompressSync(got.body).toString('utf8'))
  t.same(schemaErrors(body), [])
  t.equal(body.status, 'fail')
  await expectHealthAnswer(t, `${base}/health/ready`, 503, { headers: { origin: ORIGIN } })
})

test('compress with threshold 0 compresses even the smallest answer', async (t) => {
  const { base } = await besideApp(t, { before: (app) => app.register(compress, { global: true, threshold: 0 }) })
  const got = await rawRequest(`${base}/health/live`, { headers: { 'accept-encoding': 'gzip' } })
  t.equal(got.statusCode, 200)
  t.equal(got.headers['content-encoding'], 'gzip')
  t.same(schemaErrors(JSON.parse(gunzipSync(got.body).toString('utf8'))), [])
  // fetch (undici) decodes by itself: what a dashboard sees.
  await expectHealthAnswer(t, `${base}/health/live`, 200, { headers: { 'accept-encoding': 'gzip' } })
})

test('a CORS preflight for a health route is answered, and the answers carry the headers', async (t) => {
  const { base } = await besideApp(t, { before: neighbours, options: { checks } })
  for (const url of healthRoutes) {
    const preflight = await rawRequest(base + url, {
      method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' }
    })
    t.equal(preflight.statusCode, 204, `OPTIONS ${url}: 204`)
    t.equal(preflight.headers['access-control-allow-origin'], ORIGIN, `OPTIONS ${url}: the origin allowed`)
    t.match(preflight.headers['access-control-allow-methods'], /GET/, `OPTIONS ${url}: GET allowed`)
    const got = await expectHealthAnswer(t, base + url, 200, { headers: { origin: ORIGIN } })
    t.equal(got.headers.get('access-control-allow-origin'), ORIGIN, `${url}: allowed origin on the answer`)
  }
  const other = await rawRequest(`${base}/health`, { headers: { origin: 'http://127.0.0.2:8080' } })
  t.equal(other.statusCode, 200, 'another origin still gets the answer (CORS is the browser\'s to enforce)')
  // A fixed origin is always sent as it is: a browser on another origin refuses the answer.
  t.equal(other.headers['access-control-allow-origin'], ORIGIN, 'the allowed origin is the configured one, not the caller\'s')
})
