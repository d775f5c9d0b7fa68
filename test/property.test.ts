import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { types } from 'node:util'
import vm from 'node:vm'
import { test, type Test } from 'tap'
import fc from 'fast-check'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyHealth, { type HealthResponse, State, type Status } from '../lib/index.js'
import { fullFormats } from 'ajv-formats/dist/formats.js'
import { schemaErrors } from './helpers.js'

// Property tests: whatever checks return or throw, and whatever options they get, every answer
// is a valid health document whose code follows its status, and no answer shows a stack.

const STACK_FRAME = /\bat (?:async )?(?:\S+ \()?(?:file:\/\/|\/|node:)[^\s)"]*:\d+:\d+/
const healthCodes: Record<Status, number> = { pass: 200, warn: 202, fail: 503 }
const probeCodes: Record<Status, number> = { pass: 200, warn: 200, fail: 503 }
const severity: Record<Status, number> = { pass: 0, warn: 1, fail: 2 }
const worst = (a: Status, b: Status): Status => severity[b] > severity[a] ? b : a
const stateStatus: Record<State, Status> = {
  [State.WORK]: 'pass', [State.WARMUP]: 'warn', [State.SHUTDOWN]: 'warn', [State.NOINFO]: 'fail'
}
const MAX_TIMER_MS = 2 ** 31 - 1

// ---- the oracle: what status a check's behaviour must come out as --------------------------

// The draft's formats as ajv-formats reads them: independent of lib/formats.ts.
const format = (name: 'date-time' | 'uri-reference' | 'uri-template') => {
  const rule = fullFormats[name] as RegExp | { validate: (value: string) => boolean }
  return (value: unknown): boolean => typeof value === 'string' && (rule instanceof RegExp ? rule.test(value) : rule.validate(value))
}
const isDateTime = format('date-time')
const isUriTemplate = format('uri-template')
const isUriReference = format('uri-reference')
// Links must be absolute URIs or references from the root: the generators make no other kind.
// RFC 8288: a relation type is a registered name (a lower-case token) or an absolute URI.
const isRelation = (key: string): boolean => /^[a-z][a-z0-9.-]*$/.test(key) || (isUriReference(key) && /^[a-z][a-z0-9+.-]*:/i.test(key))
const isLink = (value: unknown): boolean => isUriReference(value) && /^(?:\/(?!\/)|[a-z][a-z0-9+.-]*:)/i.test(value as string)

const words: Record<string, Status> = { pass: 'pass', ok: 'pass', up: 'pass', warn: 'warn', fail: 'fail', error: 'fail', down: 'fail' }
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The status of one component detail after normalisation, or undefined when it is invalid. */
function nodeStatus (node: unknown): Status | undefined {
  if (!isPlain(node)) return undefined
  let status: Status = 'pass'
  if (node.status !== undefined) {
    if (typeof node.status !== 'string') return undefined
    const key = node.status.trim().toLowerCase()
    if (!Object.hasOwn(words, key)) return undefined
    status = words[key] as Status
  }
  for (const field of ['componentId', 'componentType', 'observedUnit', 'output']) {
    const value = node[field]
    if (value !== undefined && !['string', 'number', 'boolean'].includes(typeof value)) return undefined
  }
  if (node.time !== undefined && !isDateTime(node.time)) return undefined
  const endpoints = node.affectedEndpoints
  if (endpoints !== undefined && !(Array.isArray(endpoints) && endpoints.every(isUriTemplate))) return undefined
  const links = node.links
  if (links !== undefined && !(isPlain(links) && Object.keys(links).every(isRelation) && Object.values(links).every(isLink))) return undefined
  return status
}

/** The status a returned value must give: the worst node, or fail for anything invalid. */
function resultStatus (value: unknown): Status {
  if (value === undefined || value === null) return 'pass'
  const nodes = Array.isArray(value) ? value : [value]
  if (nodes.length === 0 || nodes.length > 64) return 'fail'
  let json: string
  try {
    json = JSON.stringify(nodes)
  } catch {
    return 'fail'
  }
  if (json.length > 16 * 1024) return 'fail'
  let status: Status = 'pass'
  for (const copy of JSON.parse(json) as unknown[]) {
    const own = nodeStatus(copy)
    if (own === undefined) return 'fail'
    status = worst(status, own)
  }
  return status
}

// ---- arbitraries ----------------------------------------------------------------------------

/**
 * Status words: the canonical ones, the aliases in any case and padding, and anything else.
 * Object.prototype's own keys ("constructor", "__proto__") are in on purpose: they are no status.
 */
const statusWord = fc.oneof(
  { arbitrary: fc.constantFrom('pass', 'warn', 'fail', 'ok', 'up', 'error', 'down'), weight: 4 },
  { arbitrary: fc.constantFrom('PASS', ' Warn', 'OK ', 'Up', ' eRRor ', 'DOWN', 'Fail'), weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  { arbitrary: fc.constantFrom('constructor', '__proto__', 'toString', ' hasOwnProperty'), weight: 1 },
  { arbitrary: fc.anything(), weight: 1 }
)

const textish = fc.oneof(
  { arbitrary: fc.string({ maxLength: 12 }), weight: 4 },
  { arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean()), weight: 1 },
  { arbitrary: fc.anything(), weight: 1 }
)

// Dates (invalid ones and ones past year 9999 included), RFC 3339 strings with offsets, days
// that do not exist, words, and anything at all.
const offsets = fc.constantFrom('Z', '+02:00', '-05:30', 'z', '+00:00')
const timeish = fc.oneof(
  fc.date({ min: new Date(0), max: new Date(4e12) }),
  fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.tuple(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }), offsets).map(([d, zone]) => d.toISOString().replace('Z', zone)),
  fc.constantFrom('2023-02-29T00:00:00Z', '2024-04-31T10:00:00Z', '2024-01-01T25:00:00Z', 'yesterday', 'now', '1700000000', ''),
  fc.date(),
  fc.constant(new Date(Number.NaN)),
  fc.string({ maxLength: 10 }),
  fc.anything()
)

const endpoint = fc.oneof(
  fc.constantFrom('/orders/{id}', '/search{?q,limit}', '/plain', '/bad {', '/{}', '/100%'),
  fc.string({ maxLength: 10 })
)
const link = fc.oneof(
  { arbitrary: fc.webUrl(), weight: 3 },
  fc.constantFrom('/docs', 'https://example.com/a b', 'docs', '//example.com', 'https://example.com/%zz'),
  fc.integer()
)

const detail = fc.record({
  componentId: textish,
  componentType: fc.oneof(fc.constantFrom('component', 'datastore', 'system'), textish),
  observedValue: fc.anything(),
  observedUnit: textish,
  status: statusWord,
  affectedEndpoints: fc.oneof({ arbitrary: fc.array(endpoint, { maxLength: 3 }), weight: 3 }, fc.anything()),
  time: timeish,
  output: fc.oneof(textish, fc.string({ minLength: 500, maxLength: 600 })),
  links: fc.oneof({ arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('self', 'about', 'describedby', 'https://example.com/rel'), fc.string({ maxLength: 6 })), link, { maxKeys: 2 }), weight: 3 }, fc.anything()),
  extra: fc.anything()
}, { requiredKeys: [] })

// Values that JSON cannot carry: a BigInt, a cycle, a toJSON that throws.
const unserializable = fc.constantFrom<unknown>(
  { observedValue: 1n },
  (() => { const loop: Record<string, unknown> = {}; loop.self = loop; return loop })(),
  { toJSON: () => { throw new Error('no JSON') } }
)

const result = fc.oneof(
  { arbitrary: fc.constantFrom(undefined, null), weight: 1 },
  // Past the bounds: more than 64 nodes, more than 16 KiB.
  { arbitrary: fc.array(fc.constant({ status: 'pass' }), { minLength: 65, maxLength: 70 }), weight: 1 },
  { arbitrary: fc.string({ minLength: 16 * 1024, maxLength: 16 * 1024 + 8 }).map((padding) => ({ padding })), weight: 1 },
  { arbitrary: unserializable, weight: 1 },
  { arbitrary: detail, weight: 4 },
  { arbitrary: fc.array(detail, { maxLength: 4 }), weight: 3 },
  { arbitrary: fc.anything(), weight: 2 },
  { arbitrary: fc.array(fc.anything(), { maxLength: 3 }), weight: 1 }
)

const circular: Record<string, unknown> = { name: 'loop' }
circular.self = circular

// Errors made in another realm (a vm context): no `instanceof Error` here, Errors all the same.
const foreignError = vm.runInNewContext('(message) => new SyntaxError(message)') as (message: string) => unknown
// A stack that a plain object carries, at the top or deeper: never shown either.
const fakeStack = 'Error: copied\n    at connect (/app/lib/db.js:10:5)\n    at async main (file:///app/index.js:3:1)'

const thrown = fc.oneof(
  fc.anything(),
  fc.string().map((message) => new Error(message)),
  fc.string().map((message) => new TypeError(message)),
  fc.string({ minLength: 600, maxLength: 700 }).map((message) => new RangeError(message)),
  fc.string().map(foreignError),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 3 }).chain((rest) =>
    fc.constantFrom({ ...rest, stack: fakeStack }, { ...rest, cause: { message: 'deeper', stack: fakeStack } })),
  fc.bigInt(),
  fc.constant(circular)
)

type Behaviour =
  | { kind: 'return', value: unknown, async: boolean }
  | { kind: 'throw', value: unknown, async: boolean }
  | { kind: 'hang' }

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('return' as const), value: result, async: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('throw' as const), value: thrown, async: fc.boolean() }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'hang' as const }), weight: 1 }
)

/** Runs a behaviour; a hang lasts until `release` is called (or forever when not given). */
function run (b: Behaviour, hangs: Array<() => void>): unknown {
  if (b.kind === 'hang') return new Promise<undefined>((resolve) => { hangs.push(() => resolve(undefined)) })
  if (b.kind === 'throw') {
    if (b.async) return Promise.reject(b.value)
    throw b.value
  }
  // Async results settle in microtasks: before any timer, even a 1 ms timeout.
  return b.async ? Promise.resolve().then(() => b.value) : b.value
}

const expectedCheckStatus = (b: Behaviour): Status => b.kind === 'return' ? resultStatus(b.value) : 'fail'

/** Whether `value` is an Error, from this realm or another. */
const isError = (value: unknown): value is Error => value instanceof Error || types.isNativeError(value)

const linesOf = (stack: string | undefined): string[] => (stack ?? '').split('\n').slice(1).map((l) => l.trim()).filter(Boolean)

/** The stack lines of what a behaviour throws (an Error's, or one a plain object carries), none of which may be in an answer. */
const stackLinesOf = (b: Behaviour): string[] =>
  b.kind !== 'throw' ? [] : isError(b.value) ? linesOf(b.value.stack) : linesOf(fakeStack)

/** Asserts what every answer must be; returns the parsed body. */
function assertAnswer (view: string, res: { statusCode: number, body: string }, stackLines: string[]): HealthResponse {
  const body = JSON.parse(res.body) as HealthResponse
  assert.deepEqual(schemaErrors(body), [], `${view}: schema`)
  const codes = view === '/health' ? healthCodes : probeCodes
  assert.equal(res.statusCode, codes[body.status], `${view}: code ${res.statusCode} for ${body.status}`)
  assert.doesNotMatch(res.body, STACK_FRAME, `${view}: a stack frame`)
  for (const line of stackLines) assert.ok(!res.body.includes(line), `${view}: the stack line ${line}`)
  assert.equal(body.output === undefined, body.status === 'pass', `${view}: output exactly when not passing`)
  if (body.output !== undefined) assert.ok(body.output.length <= 1024, `${view}: output bounded`)
  return body
}

// ---- the properties ---------------------------------------------------------------------------

// Building an instance costs about 100 ms (route schemas are compiled), so each property builds
// one and varies what its checks do between runs. A fresh reading for every run: cacheFor 0 and
// a short timeout, and each run starts by waiting longer than that timeout, so that its first
// request waits for new runs of every check instead of being served the previous run's reading.

interface Slot {
  name: string
  critical: boolean | undefined
  probes: Array<'live' | 'ready'> | undefined
  timeout: number
}

const slots: Slot[] = []
for (const critical of [undefined, true, false]) {
  for (const probes of [undefined, [], ['live'], ['live', 'ready']] as Array<Slot['probes']>) {
    for (const timeout of [1, 15]) slots.push({ name: `c${slots.length}`, critical, probes, timeout })
  }
}
const LONGEST_TIMEOUT = 15

test('every answer is a valid health document whose code follows its status, with no stack', async (t) => {
  const views = ['/health', '/health/live', '/health/ready', '/health/started'] as const
  const behaviours = new Map<string, Behaviour>()
  const hangs: Array<() => void> = []
  const pass: Behaviour = { kind: 'return', value: undefined, async: false }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'prop',
    initialState: State.WORK,
    checks: Object.fromEntries(slots.map((slot) => [slot.name, {
      check: () => run(behaviours.get(slot.name) ?? pass, hangs) as never,
      critical: slot.critical,
      probes: slot.probes,
      timeout: slot.timeout,
      cacheFor: 0
    }]))
  })
  const seen = new Set<string>()

  await fc.assert(fc.asyncProperty(
    fc.constantFrom(State.WORK, State.WORK, State.WARMUP, State.SHUTDOWN, State.NOINFO),
    fc.array(fc.tuple(fc.nat(slots.length - 1), behaviour), { minLength: 0, maxLength: 3 }),
    async (state, picks) => {
      behaviours.clear()
      for (const [index, b] of picks) behaviours.set(slots[index]?.name ?? '', b)
      app.health.setState(state)
      await sleep(LONGEST_TIMEOUT + 5)
      try {
        /** A check's part in a view: a failing non-critical check counts as warn. */
        const part = (slot: Slot): Status => {
          const own = expectedCheckStatus(behaviours.get(slot.name) ?? pass)
          return own === 'fail' && slot.critical === false ? 'warn' : own
        }
        const partIn = (probe: 'live' | 'ready', base: Status): Status => slots
          .filter((slot) => (slot.probes ?? ['ready']).includes(probe))
          .reduce((s, slot) => worst(s, part(slot)), base)
        const expected: Record<typeof views[number], Status> = {
          '/health': slots.reduce((s, slot) => worst(s, part(slot)), stateStatus[state]),
          '/health/live': partIn('live', 'pass'),
          '/health/ready': partIn('ready', state === State.WORK ? 'pass' : 'fail'),
          '/health/started': 'pass'
        }
        const stackLines = [...behaviours.values()].flatMap(stackLinesOf)

        for (const view of views) {
          const body = assertAnswer(view, await app.inject(view), stackLines)
          assert.equal(body.status, expected[view], `${view}: status`)
          seen.add(`${view} ${body.status}`)
          if (view !== '/health') continue

          assert.deepEqual(Object.keys(body.checks ?? {}), slots.map((slot) => slot.name), 'every check, in order')
          for (const slot of slots) {
            const entries = body.checks?.[slot.name] ?? []
            assert.ok(entries.length >= 1 && entries.length <= 64, `${slot.name}: entries`)
            for (const entry of entries) {
              assert.ok(entry.status === 'pass' || entry.status === 'warn' || entry.status === 'fail', `${slot.name}: entry status`)
              assert.equal(typeof entry.time, 'string', `${slot.name}: entry time`)
              if (entry.output !== undefined) assert.ok(entry.output.length <= 512, `${slot.name}: output bounded`)
            }
            const b: Behaviour = behaviours.get(slot.name) ?? pass
            const own = entries.reduce((s: Status, e) => worst(s, e.status as Status), 'pass')
            assert.equal(own, expectedCheckStatus(b), `${slot.name}: check status`)
            if (b.kind === 'return') continue
            assert.equal(entries.length, 1, `${slot.name}: one fail entry`)
            const output = entries[0]?.output ?? ''
            if (b.kind === 'hang') assert.equal(output, `Timed out after ${slot.timeout} ms`)
            else if (isError(b.value)) assert.ok(output.startsWith(b.value.name), `${slot.name}: output names the error`)
            else assert.ok(output.startsWith('threw '), `${slot.name}: output says what was thrown`)
          }
        }
      } finally {
        // Let the hung checks end, so that the next run can start them again.
        for (const release of hangs.splice(0)) release()
        await sleep(0)
      }
    }
  ), { numRuns: 150 })

  for (const status of ['pass', 'warn', 'fail']) t.ok(seen.has(`/health ${status}`), `/health answered ${status} in some run`)
  t.ok(seen.has('/health/ready fail') && seen.has('/health/live fail'), 'probes failed in some run')
})

/** One instance with one check `c` that does what the current run says. */
async function single (t: Test): Promise<{ app: FastifyInstance, set: (b: Behaviour) => void }> {
  let current: Behaviour = { kind: 'return', value: undefined, async: false }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, {
    exposeDetails: true,
    serviceName: 'prop',
    initialState: State.WORK,
    checks: { c: { check: () => run(current, []) as never, cacheFor: 0, timeout: 1 } }
  })
  return { app, set: (b) => { current = b } }
}

test('status aliases in any case and padding come out as the canonical words', async (t) => {
  const { app, set } = await single(t)
  const alias = fc.tuple(
    fc.constantFrom(...Object.keys(words)),
    fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    fc.constantFrom('', ' ', '  ', '\t'),
    fc.constantFrom('', ' ', '\n')
  ).map(([word, upper, before, after]) => ({
    word,
    written: before + [...word].map((c, i) => upper[i] === true ? c.toUpperCase() : c).join('') + after
  }))
  await fc.assert(fc.asyncProperty(fc.array(alias, { minLength: 1, maxLength: 5 }), async (aliases) => {
    set({ kind: 'return', value: aliases.map(({ written }) => ({ status: written })), async: false })
    await sleep(3)
    const body = assertAnswer('/health', await app.inject('/health'), [])
    assert.deepEqual(body.checks?.c?.map((e) => e.status), aliases.map(({ word }) => words[word]))
    const overall = aliases.reduce((s: Status, { word }) => worst(s, words[word] as Status), 'pass')
    assert.equal(body.status, overall)
  }), {
    numRuns: 100,
    // A failing run throws its counterexample out of fc.assert; this checks the runs all happened.
    plugins: [() => ({
      onAllRunsComplete: ({ failed, numRuns, numSkips }) => {
        t.same({ failed, numRuns, numSkips }, { failed: false, numRuns: 100, numSkips: 0 }, 'aliases normalised in all 100 runs')
      }
    })]
  })
})

test('arbitrary values thrown or rejected always give one fail entry and a 503', async (t) => {
  const { app, set } = await single(t)
  await fc.assert(fc.asyncProperty(thrown, fc.boolean(), async (value, async) => {
    const b: Behaviour = { kind: 'throw', value, async }
    set(b)
    await sleep(3)
    for (const view of ['/health', '/health/ready']) {
      const body = assertAnswer(view, await app.inject(view), stackLinesOf(b))
      assert.equal(body.status, 'fail')
      const entries = body.checks?.c
      assert.equal(entries?.length, 1)
      assert.equal(entries?.[0]?.status, 'fail')
      const output = entries?.[0]?.output ?? ''
      assert.ok(output.length > 0 && output.length <= 512, 'a bounded output')
      assert.equal(body.output, `c: fail (${output})`)
    }
    assertAnswer('/health/live', await app.inject('/health/live'), [])
  }), {
    numRuns: 150,
    // A failing run throws its counterexample out of fc.assert; this checks the runs all happened.
    plugins: [() => ({
      onAllRunsComplete: ({ failed, numRuns, numSkips }) => {
        t.same({ failed, numRuns, numSkips }, { failed: false, numRuns: 150, numSkips: 0 }, 'every thrown value handled: 150 runs')
      }
    })]
  })
})

test('arbitrary option values are accepted exactly when valid', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyHealth, { exposeDetails: true, serviceName: 'prop', initialState: State.WORK })
  const some = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: valid, weight: 4 }, { arbitrary: fc.anything(), weight: 2 })
  const options = fc.record({
    critical: some(fc.boolean()),
    timeout: some(fc.oneof(fc.integer({ min: -2, max: 100 }), fc.integer({ min: MAX_TIMER_MS - 2, max: MAX_TIMER_MS + 2 }), fc.double()))
  }, { requiredKeys: [] })
  const millis = (value: unknown, min: number): boolean =>
    value === undefined || (Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_TIMER_MS)
  const accepted: string[] = []
  let refused = 0
  await fc.assert(fc.property(options, (given) => {
    const name = `o${accepted.length + refused}`
    const valid = (given.critical === undefined || typeof given.critical === 'boolean') && millis(given.timeout, 1)
    const add = (): void => app.health.addCheck(name, () => undefined, given as never)
    if (valid) {
      add()
      accepted.push(name)
    } else {
      assert.throws(add, { code: 'FST_HEALTH_INVALID_CHECK' })
      refused++
    }
  }), { numRuns: 200 })
  t.ok(accepted.length > 20, `valid options accepted (${accepted.length})`)
  t.ok(refused > 20, `invalid options refused (${refused})`)
  const body = assertAnswer('/health', await app.inject('/health'), [])
  t.same(Object.keys(body.checks ?? {}), accepted, 'exactly the accepted checks were registered')
  t.equal(body.status, 'pass')
})

// The flat copy (lib/engine/normalize.ts) skips the JSON round trip for flat plain objects, the
// common result: whatever such an object holds, what it gives is what the round trip gives.
test('a flat result normalises as its JSON round trip does', async (t) => {
  const { normalizeResult } = await import('../lib/engine/normalize.js')
  const value = fc.oneof(
    fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.double(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 1e21),
    fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constantFrom('pass', 'warn', 'fail', 'ok', 'down'),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), fc.string({ minLength: 3000, maxLength: 3000 })
  )
  const key = fc.oneof(
    fc.constantFrom('status', 'output', 'observedValue', 'observedUnit', 'componentId', 'componentType', 'time', '__proto__', 'toJSON', '0'),
    fc.string({ maxLength: 12 })
  )
  const flat = fc.dictionary(key, value, { maxKeys: 8 })
  const time = '2026-01-01T00:00:00.000Z'
  t.doesNotThrow(() => fc.assert(fc.property(fc.oneof(flat, fc.array(flat, { minLength: 1, maxLength: 6 })), (result) => {
    const viaJson = JSON.parse(JSON.stringify(result)) as unknown
    assert.deepEqual(normalizeResult(result, time), normalizeResult(viaJson, time))
  }), { numRuns: 2000 }), '2000 flat results normalise as their JSON round trips do')
})
