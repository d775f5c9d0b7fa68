import type { Tally } from './engine/registry.js'
import type { CheckRunner } from './engine/runner.js'
import { truncate } from './engine/normalize.js'
import type { Reading } from './engine/types.js'
import type { ResolvedOptions } from './options.js'
import type { HealthCheckEntry, HealthResponse } from './schema.js'
import { type State, Status, worstStatus } from './states.js'
import { type HealthView, missingCheck } from './views.js'

/**
 * One answer of a view, built whole at one moment and never changed: its status, code and
 * document all say the same thing. Served as is until something it was built from changes.
 */
export interface Answer {
  readonly statusCode: number
  readonly status: Status
  /**
   * The document serialized once, so that a request costs no serialization. A string, not a
   * Buffer: Node sends a string body in one chunk with the headers, a Buffer as a second one.
   */
  readonly payload: string
}

/** What an answer needs of a view: how the state and the checks make its status, notes and code. */
export type AnswerView = Pick<HealthView, 'baseStatus' | 'notes' | 'codes'>

/** What every answer says of the service itself. */
type Identity = Pick<ResolvedOptions, 'serviceName' | 'version' | 'releaseId' | 'description' | 'links'>

/** Longest `output` of a whole answer: one line per check that does not pass. */
const MAX_SUMMARY_LENGTH = 1024

/** The status the state and the checks' counts make. */
function statusOf (base: Status, warn: number, fail: number): Status {
  return worstStatus(base, fail > 0 ? Status.FAIL : warn > 0 ? Status.WARN : Status.PASS)
}

function answer (view: AnswerView, status: Status, document: HealthResponse): Answer {
  return Object.freeze({ statusCode: view.codes[status], status, payload: JSON.stringify(document) })
}

/**
 * The answer for callers denied the details, from the view's tally alone (its cost does not grow
 * with the number of checks): status, code and identity, and how many checks warn or fail.
 */
export function briefAnswer (view: AnswerView, state: State, started: boolean, tally: Tally, identity: Identity): Answer {
  const base = view.baseStatus(state, started)
  const status = statusOf(base, tally.warn, tally.fail)
  const said = [stateProblem(base, state), counted(tally.fail, 'failing'), counted(tally.warn, 'warning')].filter((problem) => problem !== undefined)
  const { version, releaseId, serviceName: serviceId, description } = identity
  return answer(view, status, {
    status, version, releaseId, notes: [view.notes(status, state)], output: said.length === 0 ? undefined : said.join('; '), serviceId, description
  })
}

/**
 * The answer with the details: the latest reading of every check, and the status they make,
 * both taken here from the same readings (immutable values), so the two cannot disagree.
 */
export function detailedAnswer (view: AnswerView, state: State, started: boolean, runners: readonly CheckRunner[], identity: Identity): Answer {
  const base = view.baseStatus(state, started)
  const problems: string[] = []
  const state_ = stateProblem(base, state)
  if (state_ !== undefined) problems.push(state_)
  // No prototype: a check may be named `__proto__` or `constructor`, and must be a key like any other.
  const checks: Record<string, HealthCheckEntry[]> = Object.create(null)
  let any = false
  let warn = 0
  let fail = 0
  for (const runner of runners) {
    const reading = runner.reading
    // A check with no reading yet is left out: a request waits for its first reading, so only
    // announcements (a state change before any request) could ever see it.
    if (reading === undefined) continue
    checks[runner.name] = reading.entries as HealthCheckEntry[]
    any = true
    if (reading.counted === Status.PASS) continue
    if (reading.counted === Status.FAIL) fail++
    else warn++
    problems.push(problemOf(runner.name, reading))
  }
  const status = statusOf(base, warn, fail)
  const output = status === Status.PASS ? undefined : problems.join('; ')
  return answer(view, status, healthDocument(status, view.notes(status, state), output, any ? checks : undefined, identity))
}

/** `db: fail (Connection refused)`, with why it does not count yet when a threshold holds it. */
function problemOf (name: string, { entries, status, held }: Reading): string {
  const said = entries.find((entry) => entry.output !== undefined)?.output
  const notes = [said, held === undefined ? undefined : heldNote(status, held)].filter((text) => text !== undefined)
  return notes.length === 0 ? `${name}: ${status}` : `${name}: ${status} (${notes.join(', ')})`
}

/** `Service state: Warming up` when the state alone does not pass. */
function stateProblem (base: Status, state: State): string | undefined {
  return base === Status.PASS ? undefined : `Service state: ${state}`
}

/** `2 checks failing`; undefined for none. */
function counted (n: number, what: string): string | undefined {
  return n === 0 ? undefined : `${n} ${n === 1 ? 'check' : 'checks'} ${what}`
}

/** A health+json document: keys in the draft's order, optional ones only when configured or meaningful. */
function healthDocument (
  status: Status, note: string, output: string | undefined, checks: HealthResponse['checks'], identity: Identity
): HealthResponse {
  const body: HealthResponse = { status }
  if (identity.version !== undefined) body.version = identity.version
  if (identity.releaseId !== undefined) body.releaseId = identity.releaseId
  body.notes = [note]
  if (output !== undefined) body.output = truncate(output, MAX_SUMMARY_LENGTH)
  if (checks !== undefined) body.checks = checks
  if (identity.links !== undefined) body.links = identity.links
  body.serviceId = identity.serviceName
  if (identity.description !== undefined) body.description = identity.description
  return body
}

/**
 * What a request for a check that does not exist answers, with `missingCheck.code`: a valid
 * document that fails and says so. Built per request (the name is the caller's); rare.
 */
export function missingCheckPayload (name: string, identity: Identity): string {
  const { status, notes, output } = missingCheck
  return JSON.stringify(healthDocument(status, notes, truncate(output(name), 256), undefined, identity))
}

/** Why a reading does not count yet: `1 of 3 failing readings before it counts`. */
function heldNote (own: Status, { streak, threshold }: { streak: number, threshold: number }): string {
  return own === Status.FAIL
    ? `${streak} of ${threshold} failing readings before it counts`
    : `${streak} of ${threshold} passing readings before it counts again`
}
