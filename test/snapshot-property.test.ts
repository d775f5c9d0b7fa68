// Every answer is one immutable snapshot: whatever order readings, additions, removals, state
// changes and requests come in (fast-check's scheduler picks the order of every check's result),
// an answer's status is the worst of what its entries count, its code follows it, and the answer
// without details says the same status as the one with them.
import fc from 'fast-check'
import Fastify from 'fastify'
import { test } from 'tap'
import { type Answer } from '../lib/answer.js'
import { createHealth } from '../lib/controller.js'
import { DueQueue } from '../lib/engine/due-queue.js'
import { resolveOptions } from '../lib/options.js'
import type { HealthResponse } from '../lib/schema.js'
import { State, type Status, stateStatus } from '../lib/states.js'
import { schemaErrors } from './helpers.js'

const severity: Record<Status, number> = { pass: 0, warn: 1, fail: 2 }
const worst = (a: Status, b: Status): Status => severity[b] > severity[a] ? b : a
const codes: Record<Status, number> = { pass: 200, warn: 202, fail: 503 }
const probeCodes: Record<Status, number> = { pass: 200, warn: 200, fail: 503 }

const statusArb = fc.constantFrom<Status>('pass', 'warn', 'fail')
const stateArb = fc.constantFrom(State.WORK, State.WARMUP, State.SHUTDOWN, State.NOINFO)
const names = ['a', 'b', 'c', 'db:x']

type Step =
  | { kind: 'add', name: string, critical: boolean, cacheFor: number }
  | { kind: 'remove', name: string }
  | { kind: 'state', state: State }
  | { kind: 'set', name: string, status: Status }
  | { kind: 'request', view: 'health' | 'ready' }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), name: fc.constantFrom(...names), critical: fc.boolean(), cacheFor: fc.constantFrom(0, 1, 1000) }),
  fc.record({ kind: fc.constant('remove' as const), name: fc.constantFrom(...names) }),
  fc.record({ kind: fc.constant('state' as const), state: stateArb }),
  fc.record({ kind: fc.constant('set' as const), name: fc.constantFrom(...names), status: statusArb }),
  fc.record({ kind: fc.constant('request' as const), view: fc.constantFrom('health' as const, 'ready' as const) })
)

/** Asserts an answer with details is one consistent snapshot; returns its status. */
function consistent (answer: Answer, view: 'health' | 'ready', critical: Map<string, boolean>): Status {
  const body = JSON.parse(answer.payload) as HealthResponse
  if (schemaErrors(body).length > 0) throw new Error(`invalid document: ${schemaErrors(body).join(', ')}`)
  // The state the answer was taken in, as it says it (the live one may have moved on since).
  const state = (/^Service state: ([^;]+)/.exec(body.output ?? '')?.[1] ?? State.WORK) as State
  let expected: Status = view === 'health' ? stateStatus[state] : (state === State.WORK ? 'pass' : 'fail')
  for (const [name, entries] of Object.entries(body.checks ?? {})) {
    for (const entry of entries) {
      const own = entry.status ?? 'pass'
      expected = worst(expected, own === 'fail' && critical.get(name) === false ? 'warn' : own)
    }
  }
  if (body.status !== expected) throw new Error(`status ${body.status}, but its entries and state count ${expected}: ${answer.payload}`)
  if (answer.status !== body.status) throw new Error('the answer\'s status is not its document\'s')
  const code = (view === 'health' ? codes : probeCodes)[body.status]
  if (answer.statusCode !== code) throw new Error(`code ${answer.statusCode} for ${body.status}`)
  if (body.status !== 'pass' && body.output === undefined) throw new Error('no output on a status that does not pass')
  return body.status
}

test('answers are consistent snapshots under random interleavings (fast-check scheduler)', async (t) => {
  const log = Fastify({ logger: false }).log
  await fc.assert(fc.asyncProperty(fc.scheduler(), fc.array(stepArb, { minLength: 1, maxLength: 30 }), async (s, steps) => {
    const options = resolveOptions({ serviceName: 'orders', initialState: State.WORK, exposeDetails: true })
    const { health, lifecycle } = createHealth(options, log, async () => {})
    const statuses = new Map<string, Status>()
    const critical = new Map<string, boolean>()
    const pending: Array<Promise<unknown>> = []
    const check = (name: string) => async () => {
      // Each result comes back when the scheduler says, in any order with everything else.
      const status = await s.schedule(Promise.resolve(statuses.get(name) ?? 'pass'), `result of ${name}`)
      return { status }
    }
    const request = (view: 'health' | 'ready'): void => {
      const detailed = lifecycle.answer(view, true)
      // The overall status kept from the tallies (what brief answers, logs and metrics say), read
      // at the same moment as the detailed answer, must agree with it.
      const compare = (full: Answer): void => {
        const status = consistent(full, view, critical)
        if (view !== 'health' || full !== lifecycle.answer('health', true)) return
        // Still the latest answer (nothing changed since): the tallies must say the same.
        const tallied = lifecycle.snapshot().status
        if (tallied !== status) throw new Error(`tally says ${tallied}, the entries ${status}`)
      }
      if (detailed instanceof Promise) pending.push(detailed.then(compare))
      else compare(detailed)
    }
    const run = (step: Step): void => {
      if (step.kind === 'add') {
        if (lifecycle.checks.has(step.name)) return
        critical.set(step.name, step.critical)
        health.addCheck(step.name, check(step.name), { critical: step.critical, cacheFor: step.cacheFor })
      } else if (step.kind === 'remove') {
        health.removeCheck(step.name)
      } else if (step.kind === 'state') {
        health.setState(step.state)
      } else if (step.kind === 'set') {
        statuses.set(step.name, step.status)
      } else {
        request(step.view)
      }
    }
    // Every step and every check result in an order the scheduler picks.
    for (const step of steps) pending.push(s.schedule(Promise.resolve(step), step.kind).then(run))
    await s.waitAll()
    await Promise.all(pending)
    request('health')
    await s.waitAll()
    await Promise.all(pending)
    await lifecycle.stop()
  }), { numRuns: 150 })
  t.pass('150 random interleavings, every answer consistent')
})

test('the due queue holds each item once, and gives them back in order, whatever the schedule', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(20), fc.oneof(fc.integer({ min: -5, max: 50 }), fc.constant(Infinity)), fc.boolean()), { maxLength: 300 }), fc.nat(60), (ops, now) => {
    const queue = new DueQueue<number>()
    const model = new Map<number, number>()
    for (const [item, at, forget] of ops) {
      if (forget) {
        queue.forget(item)
        model.delete(item)
      } else {
        queue.schedule(item, at)
        if (at === Infinity) model.delete(item)
        else model.set(item, at)
      }
      if (queue.size !== model.size) throw new Error(`size ${queue.size}, model ${model.size}`)
    }
    const due = [...model].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1])
    const taken: Array<[number, number]> = []
    for (let item = queue.takeDue(now); item !== undefined; item = queue.takeDue(now)) taken.push([item, model.get(item) as number])
    if (taken.length !== due.length) throw new Error(`took ${taken.length}, ${due.length} were due`)
    for (let i = 1; i < taken.length; i++) {
      if ((taken[i - 1] as [number, number])[1] > (taken[i] as [number, number])[1]) throw new Error('out of order')
    }
    if (queue.size !== model.size - due.length) throw new Error('the items not due stay')
  }), { numRuns: 500 })
  t.pass('500 random schedules against a model')
})
