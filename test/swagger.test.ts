// The health route as @fastify/swagger documents it in OpenAPI mode.
import fastifySwagger from '@fastify/swagger'
import Fastify from 'fastify'
import { type Test, test } from 'tap'
import fastifyHealth, { type FastifyHealthOptions, State } from '../lib/index.js'
import { assertAnswer, CONTENT_TYPE, schemaErrors } from './helpers.js'

interface Response { description?: string, content?: Record<string, { schema: unknown }> }

interface Operation {
  summary?: string
  tags?: string[]
  responses: Record<string, Response | undefined>
}

/** The OpenAPI document of an instance with the plugin registered with `options`. */
async function documented (t: Test, options: FastifyHealthOptions) {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifySwagger, { openapi: { info: { title: 'orders', version: '1.0.0' } } })
  await app.register(fastifyHealth, options)
  await app.ready()
  const document = app.swagger() as unknown as { openapi: string, paths: Record<string, Record<string, Operation | undefined>> }
  return { app, document }
}

const FIELDS = ['checks', 'description', 'links', 'notes', 'output', 'releaseId', 'serviceId', 'status', 'version']

/** The status words a documented `status` schema allows (OpenAPI 3.0 turns `const` into `enum`). */
function statusWords (schema: unknown): string[] {
  const status = (schema as { properties?: Record<string, { anyOf?: Array<{ const?: string, enum?: string[] }> }> })
    .properties?.status
  return (status?.anyOf ?? []).flatMap((option) => option.enum ?? [option.const]).map(String).sort()
}

function assertResponses (t: Test, operation: Operation | undefined, codes: string[]): void {
  t.ok(operation, 'the GET operation is documented')
  if (operation === undefined) return
  t.strictSame(Object.keys(operation.responses).sort(), codes, 'one response per status code')
  for (const code of codes) {
    const response: Response | undefined = operation.responses[code]
    t.ok(response?.description, `${code}: described`)
    t.strictSame(Object.keys(response?.content ?? {}), ['application/health+json'], `${code}: media type`)
    const schema: unknown = response?.content?.['application/health+json']?.schema
    t.match(schema, { type: 'object', required: ['status'] }, `${code}: an object that requires status`)
    t.strictSame(Object.keys((schema as { properties?: object })?.properties ?? {}).sort(), FIELDS,
      `${code}: the fields of the draft`)
    t.strictSame(statusWords(schema), ['fail', 'pass', 'warn'], `${code}: status is pass, warn or fail`)
  }
}

test('openapi: /health is documented with 200, 202 and 503 as application/health+json', async (t) => {
  const { app, document } = await documented(t, { serviceName: 'orders' })
  t.match(document.openapi, /^3\./)
  const operation = document.paths['/health']?.get
  assertResponses(t, operation, ['200', '202', '503'])
  t.match(operation?.summary, /health/i, 'summarized')
  t.ok(operation?.tags?.includes('health'), 'tagged health')

  // Documentation does not change what is served.
  for (const state of [State.WORK, State.WARMUP, State.SHUTDOWN, State.NOINFO]) {
    app.health.setState(state)
    const res = await app.inject('/health')
    assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, state, { serviceId: 'orders' })
    t.equal(res.headers['content-type'], CONTENT_TYPE)
  }
})

test('openapi: custom statusCodes are the documented responses', async (t) => {
  const cases: Array<[FastifyHealthOptions['statusCodes'], string[]]> = [
    [{ pass: 203, warn: 299, fail: 500 }, ['203', '299', '500']],
    [{ warn: 200 }, ['200', '503']],
    [{ fail: 500 }, ['200', '202', '500']]
  ]
  for (const [statusCodes, codes] of cases) {
    await t.test(JSON.stringify(statusCodes), async (t) => {
      const { app, document } = await documented(t, { serviceName: 'orders', statusCodes })
      assertResponses(t, document.paths['/health']?.get, codes)
      const res = await app.inject('/health')
      assertAnswer(t, { statusCode: res.statusCode, body: res.json() }, State.NOINFO,
        { serviceId: 'orders', statusCode: Number(codes.at(-1)) })
    })
  }
})

test('openapi: documented at the prefixed, custom path', async (t) => {
  const { document } = await documented(t, { serviceName: 'orders', prefix: '/ops/', path: '/ready' })
  t.notOk(document.paths['/health'], 'not at the default path')
  assertResponses(t, document.paths['/ops/ready']?.get, ['200', '202', '503'])
})

test('openapi: every group route is documented, with its own codes', async (t) => {
  const { app, document } = await documented(t, {
    serviceName: 'orders',
    checks: { 'db:responseTime': () => undefined },
    statusCodes: { warn: 200 },
    groups: {
      db: { include: ['db:*'] },
      strict: { path: '/status/strict', statusCodes: { pass: 203, fail: 500 } },
      ready: { include: ['db:*'], statusCodes: { warn: 202 } }
    }
  })
  const db = document.paths['/health/db']?.get
  assertResponses(t, db, ['200', '503'])
  t.match(db?.summary, 'group "db"', 'summarized with its name')
  t.ok(db?.tags?.includes('health'), 'tagged health')
  assertResponses(t, document.paths['/status/strict']?.get, ['200', '203', '500'])
  assertResponses(t, document.paths['/health/ready']?.get, ['200', '202', '503'])
  t.match(document.paths['/health/ready']?.get?.summary, /Readiness probe/, 'a redefined probe keeps its summary')
  for (const probe of ['live', 'started']) assertResponses(t, document.paths[`/health/${probe}`]?.get, ['200', '503'])
  // Documentation does not change what is served: No information, so fail.
  const res = await app.inject('/health/db')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['content-type'], CONTENT_TYPE)
  t.same(schemaErrors(res.json()), [])
})

test('openapi: the drill-down is documented with its name parameter and its 404', async (t) => {
  const { app, document } = await documented(t, { serviceName: 'orders', exposeDetails: true, checks: { 'db:responseTime': () => undefined } })
  const operation = document.paths['/health/checks/{name}']?.get as (Operation & { parameters?: Array<{ in: string, name: string, required?: boolean }> }) | undefined
  assertResponses(t, operation, ['200', '202', '404', '503'])
  t.match(operation?.summary, /One check/)
  t.match(operation?.parameters, [{ in: 'path', name: 'name', required: true }], 'the check name, in the path')
  t.equal((await app.inject('/health/checks/db:responseTime')).statusCode, 200)
  // The history of a check is a route of its own (documented in history.test.ts): off here.
  const { document: off } = await documented(t, { serviceName: 'orders', drillDown: false, history: false })
  t.same(Object.keys(off.paths).sort(), ['/health', '/health/live', '/health/ready', '/health/started'], 'drillDown: false: not documented')
})
