import { type IncomingHttpHeaders, request as httpRequest } from 'node:http'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { FormatRegistry } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import fastifyHealth, {
  type ComponentDetail, type FastifyHealthOptions, type HealthResponse, HealthResponseSchema, type HealthStatus, State
} from '../lib/index.js'

import { draftErrors } from './draft-validator.js'

// The formats the exported schema names, as ajv-formats checks them (not as lib/ does).
for (const format of ['date-time', 'uri-reference', 'uri-template'] as const) {
  const rule = fullFormats[format] as RegExp | { validate: (value: string) => boolean }
  FormatRegistry.Set(format, (value) => rule instanceof RegExp ? rule.test(value) : rule.validate(value))
}
const compiledResponse = TypeCompiler.Compile(HealthResponseSchema)

/**
 * The validation errors of a health document, against the exported schema (TypeBox) and against
 * the independent schema of the draft (ajv with ajv-formats); [] when both accept it.
 */
export function schemaErrors (body: unknown): string[] {
  return [
    ...[...compiledResponse.Errors(body)].map((e) => `schema ${e.path}: ${e.message}`),
    ...draftErrors(body).map((error) => `draft ${error}`)
  ]
}

/** The content type of every answer, as the draft names it (written out, not imported from lib/). */
export const CONTENT_TYPE = 'application/health+json; charset=utf-8'

/** A stack frame as V8 writes one: never in an answer. */
export const STACK_FRAME = /\bat (?:async )?(?:\S+ \()?(?:file:\/\/|\/|node:)[^\s)"]*:\d+:\d+/

/** A Fastify instance, closed when the test ends (when a test is given). */
export function newApp (t?: Test): FastifyInstance {
  const app = Fastify()
  t?.teardown(() => app.close())
  return app
}

/** A Fastify instance that keeps its log lines, to assert on what the plugin logged; closed when the test ends. */
export function loggedApp (t?: Test): { app: FastifyInstance, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  const app = Fastify({ logger: { level: 'info', stream } })
  t?.teardown(() => app.close())
  return { app, lines }
}

/** What each state answers with the default status codes. */
export const stateAnswers: Readonly<Record<State, { statusCode: number, status: HealthStatus, notes: string[] }>> = {
  [State.WORK]: { statusCode: 200, status: 'pass', notes: ['Service is running'] },
  [State.WARMUP]: { statusCode: 202, status: 'warn', notes: ['Service is not healthy, it is warming up or shutting down'] },
  [State.SHUTDOWN]: { statusCode: 202, status: 'warn', notes: ['Service is not healthy, it is warming up or shutting down'] },
  [State.NOINFO]: { statusCode: 503, status: 'fail', notes: ['No information about the service'] }
}

/** The fields a test expects on top of what the state decides. */
export interface ExpectedFields {
  serviceId: string
  /** When the status codes are overridden. */
  statusCode?: number
  version?: string
  releaseId?: string
  description?: string
  links?: Record<string, string>
}

/**
 * Asserts that `answer` is exactly what `state` must answer: a valid health+json document,
 * the status code, notes and status of the state, `output` naming the state on warn and fail
 * (absent on pass), and exactly the configured optional fields.
 */
export function assertAnswer (
  t: Test, answer: { statusCode: number, body: unknown }, state: State, expected: ExpectedFields
): void {
  t.strictSame(schemaErrors(answer.body), [], 'the body is a valid health+json document')
  const { statusCode, serviceId, ...fields } = expected
  const byState = stateAnswers[state]
  t.equal(answer.statusCode, statusCode ?? byState.statusCode, `${state}: status code`)
  const { output, ...rest } = answer.body as HealthResponse
  t.strictSame(rest, { status: byState.status, notes: byState.notes, serviceId, ...fields }, `${state}: document`)
  if (byState.status === 'pass') t.equal(output, undefined, 'no output on pass')
  else t.match(output, state, 'output names the state')
}

const stateValues: unknown[] = Object.values(State)

/** The state changes the plugin logged, in order: lines whose `from` and `to` are both State values. */
export function stateChanges (lines: Array<Record<string, unknown>>): Array<{ from: unknown, to: unknown }> {
  return lines
    .filter((line) => stateValues.includes(line.from) && stateValues.includes(line.to))
    .map(({ from, to }) => ({ from, to }))
}

/** A response read over real HTTP. */
export interface HttpAnswer {
  statusCode: number
  headers: Headers
  /** The raw body text; '' for HEAD. */
  text: string
  /** The body parsed as JSON; undefined when empty. */
  body: unknown
}

/** One request with the global fetch (a real HTTP client), body read in full. */
export async function request (url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<HttpAnswer> {
  const response = await fetch(url, { method })
  const text = await response.text()
  return { statusCode: response.status, headers: response.headers, text, body: text === '' ? undefined : JSON.parse(text) }
}

/** HTTP codes by status: of /health with the default statusCodes, and of the probes. */
export const healthCodes = { pass: 200, warn: 202, fail: 503 } as const
export const probeCodes = { pass: 200, warn: 200, fail: 503 } as const

/** An instance with the plugin registered in state Working, closed when the test ends. */
export async function workingApp (t: Test, options: Partial<FastifyHealthOptions> = {}): Promise<FastifyInstance> {
  const app = newApp(t)
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true, ...options })
  return app
}

/**
 * Makes every answer `app.inject(…)` returns from now on checked: a health+json body that either
 * schema rejects fails the test, naming the URL and the errors. Returns `app`.
 */
export function validateEveryAnswer (t: Test, app: FastifyInstance): FastifyInstance {
  const inject = app.inject.bind(app) as unknown as (options: InjectOptions | string) => Promise<LightMyRequestResponse>
  const checked = async (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const res = await inject(options)
    if (res.body !== '' && String(res.headers['content-type']).startsWith('application/health+json')) {
      const errors = schemaErrors(res.json())
      if (errors.length > 0) t.fail(`${typeof options === 'string' ? options : String(options.url)}: the answer is valid by both schemas`, { errors })
    }
    return res
  }
  Object.defineProperty(app, 'inject', { value: checked, configurable: true, writable: true })
  return app
}

/** workingApp(), every injected answer validated by both schemas (validateEveryAnswer). */
export async function validatedApp (t: Test, options: Partial<FastifyHealthOptions> = {}): Promise<FastifyInstance> {
  return validateEveryAnswer(t, await workingApp(t, options))
}

/** A listening instance with the plugin, closed when the test ends, and its base URL. */
export async function listeningApp (t: Test, options: FastifyHealthOptions | string): Promise<{ app: FastifyInstance, base: string }> {
  const app = newApp(t)
  if (typeof options === 'string') await app.register(fastifyHealth, options)
  else await app.register(fastifyHealth, { exposeDetails: true, ...options })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base }
}

/** An answer read with inject: status code, parsed body and raw text. */
export interface Got {
  statusCode: number
  body: HealthResponse
  text: string
}

/**
 * GET over inject, asserting what every answer must be: valid by both schemas, its code
 * following its status, no stack frame.
 */
export async function getAnswer (t: Test, app: FastifyInstance, url = '/health'): Promise<Got> {
  const res = await app.inject(url)
  const body = res.json() as HealthResponse
  t.same(schemaErrors(body), [], `${url}: the body matches the schema`)
  t.notMatch(res.body, STACK_FRAME, `${url}: no stack frame in the body`)
  const codes = url.endsWith('/health') ? healthCodes : probeCodes
  t.equal(res.statusCode, codes[body.status], `${url}: the code follows the status ${body.status}`)
  return { statusCode: res.statusCode, body, text: res.body }
}

/**
 * The environment for a child process, without what tap sets for its own test processes. tap
 * follows children for coverage whatever their environment; those that load the built dist/
 * must not add a second, partial copy of the code to the figures.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP|_TAPJS)/.test(key)) continue
    env[key] = value
  }
  env._TAPJS_PROCESSINFO_COV_EXCLUDE_ = String(/[\\/](node_modules|dist)[\\/]/)
  return { ...env, ...extra }
}

/** How a test reaches the routes: Fastify's inject, or real HTTP on a listening instance. */
export type Transport = 'inject' | 'http'
export const transports: Transport[] = ['inject', 'http']

/** One answer, read over either transport. */
export interface Served {
  statusCode: number
  contentType: string | undefined
  cacheControl: string | undefined
  /** The raw body: '' for HEAD. */
  text: string
  /** The body parsed as JSON; undefined when empty. */
  body: HealthResponse | undefined
}

/**
 * An instance with the plugin (state Working unless the options say otherwise), ready (inject)
 * or listening on 127.0.0.1 (http), closed when the test ends; `before` runs before it starts.
 */
export async function servedApp (
  t: Test, transport: Transport, options: Partial<FastifyHealthOptions> = {}, before?: (app: FastifyInstance) => void | Promise<void>
): Promise<{ app: FastifyInstance, call: (url: string, method?: 'GET' | 'HEAD') => Promise<Served> }> {
  const app = newApp(t)
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true, ...options })
  await before?.(app)
  if (transport === 'inject') {
    await app.ready()
    return {
      app,
      async call (url, method = 'GET') {
        const res = await app.inject({ method, url })
        return {
          statusCode: res.statusCode,
          contentType: res.headers['content-type'] as string | undefined,
          cacheControl: res.headers['cache-control'] as string | undefined,
          text: res.body,
          body: res.body === '' ? undefined : res.json()
        }
      }
    }
  }
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    async call (url, method = 'GET') {
      const got = await request(base + url, method)
      return {
        statusCode: got.statusCode,
        contentType: got.headers.get('content-type') ?? undefined,
        cacheControl: got.headers.get('cache-control') ?? undefined,
        text: got.text,
        body: got.body as HealthResponse | undefined
      }
    }
  }
}

/**
 * GET and HEAD of one health route: the code, the health+json content type, a body valid by both
 * schemas with no stack frame (GET), and the same code and type with no body (HEAD).
 */
export async function expectServed (
  t: Test, call: (url: string, method?: 'GET' | 'HEAD') => Promise<Served>, url: string, statusCode: number, label = url,
  { head = true } = {}
): Promise<HealthResponse> {
  const got = await call(url)
  t.equal(got.statusCode, statusCode, `${label}: GET answers ${statusCode}`)
  t.equal(got.contentType, CONTENT_TYPE, `${label}: GET content type`)
  t.same(schemaErrors(got.body), [], `${label}: GET body valid by both schemas`)
  t.notMatch(got.text, STACK_FRAME, `${label}: no stack frame`)
  // Not when each request is a reading that counts (cacheFor 0 and thresholds).
  if (!head) return got.body as HealthResponse
  const headed = await call(url, 'HEAD')
  t.equal(headed.statusCode, statusCode, `${label}: HEAD answers ${statusCode}`)
  t.equal(headed.contentType, CONTENT_TYPE, `${label}: HEAD content type`)
  t.equal(headed.text, '', `${label}: HEAD has no body`)
  return got.body as HealthResponse
}

/** A promise the test resolves when it chooses: synchronisation without sleeps. */
export interface Gate {
  promise: Promise<void>
  open: () => void
}

export function gate (): Gate {
  let open = (): void => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

/**
 * A listening instance (127.0.0.1, free port) as an app builds one: its other plugins first
 * (`before`, where a global hook or onRoute hook must be to see the health routes), then the
 * plugin in state Working, then `after` (the app's own routes); closed when the test ends.
 */
export async function besideApp (
  t: Test,
  { before, options = {}, after }: {
    before?: (app: FastifyInstance) => unknown
    options?: Partial<FastifyHealthOptions>
    after?: (app: FastifyInstance) => unknown
  } = {}
): Promise<{ app: FastifyInstance, base: string }> {
  const app = newApp(t)
  await before?.(app)
  await app.register(fastifyHealth, { serviceName: 'orders', initialState: State.WORK, exposeDetails: true, ...options })
  await after?.(app)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, base }
}

/**
 * One request over real HTTP (fetch) that must be a health+json answer with `statusCode`: the
 * content type, a body valid by both schemas, no stack frame; HEAD: no body.
 */
export async function expectHealthAnswer (t: Test, url: string, statusCode: number, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, init)
  const text = await response.text()
  const label = `${init.method ?? 'GET'} ${new URL(url).pathname}`
  t.equal(response.status, statusCode, `${label}: ${statusCode}`)
  t.equal(response.headers.get('content-type'), CONTENT_TYPE, `${label}: health+json`)
  const body = text === '' ? undefined : JSON.parse(text)
  if (init.method === 'HEAD') t.equal(text, '', `${label}: no body`)
  else t.same(schemaErrors(body), [], `${label}: body valid by both schemas`)
  t.notMatch(text, STACK_FRAME, `${label}: no stack frame`)
  return { statusCode: response.status, headers: response.headers, text, body }
}

/** Every route the plugin serves by default, with a check named `db` for the drill-down. */
export const healthRoutes = ['/health', '/health/live', '/health/ready', '/health/started', '/health/checks/db'] as const

/** An answer read with node:http, its body as the bytes that came over the wire. */
export interface RawAnswer {
  statusCode: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** One request with node:http on a connection of its own: nothing decoded, for headers and encodings. */
export function rawRequest (url: string, { method = 'GET', headers = {} }: { method?: string, headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('end', () => resolve({ statusCode: res.statusCode as number, headers: res.headers, body: Buffer.concat(chunks) }))
    }).once('error', reject).end()
  })
}

/**
 * Keeps the event loop busy: a busy loop of `busyMs` every `everyMs`, at most `times` times
 * (bounded), until the returned function is called or the test ends.
 */
export function blockEventLoop (t: Test, { busyMs = 80, everyMs = 100, times = 100 } = {}): () => void {
  let left = times
  const timer = setInterval(() => {
    if (left-- <= 0) return clearInterval(timer)
    const busyUntil = performance.now() + busyMs
    while (performance.now() < busyUntil) { /* busy: this is the load */ }
  }, everyMs)
  const stop = (): void => clearInterval(timer)
  t.teardown(stop)
  return stop
}

/** A check whose status the test sets (`set`), with an output on warn and fail. */
export function controlledCheck (initial: HealthStatus = 'pass'): { check: () => ComponentDetail, set: (status: HealthStatus) => void } {
  let status = initial
  return {
    check: () => (status === 'pass' ? { status } : { status, output: `it is ${status}` }),
    set: (next) => { status = next }
  }
}

/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a Prometheus text exposition (comments left out). */
export function parseExposition (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (match === null) continue
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/**
 * The samples named `name` whose labels include `labels`, as `{ [the label `by`]: value }`:
 * e.g. by status, `{ pass: 0, warn: 0, fail: 1 }`.
 */
export function samplesBy (samples: Sample[], name: string, labels: Record<string, string>, by: string): Record<string, number> {
  const found: Record<string, number> = {}
  for (const sample of samples) {
    if (sample.name !== name || !Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) continue
    found[sample.labels[by] as string] = sample.value
  }
  return found
}

/** A scrape over real HTTP, as Prometheus reads a metrics route: the code, the content type, the samples. */
export async function scrape (url: string): Promise<{ statusCode: number, contentType: string | null, text: string, samples: Sample[] }> {
  const response = await fetch(url)
  const text = await response.text()
  return { statusCode: response.status, contentType: response.headers.get('content-type'), text, samples: parseExposition(text) }
}

/** Polls until `condition()` holds, then asserts it: fails the test when it still does not after `limit` ms. */
export async function until (t: Test, condition: () => boolean, what: string, limit = 5000): Promise<void> {
  const start = performance.now()
  let held = condition()
  while (!held && performance.now() - start <= limit) {
    await sleep(5)
    held = condition()
  }
  t.ok(held, what)
}
