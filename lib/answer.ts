import type { Tally } from './engine/registry.js'
import type { CheckRunner } from './engine/runner.js'
import { truncate } from './engine/normalize.js'
import type { ResolvedOptions } from './options.js'
import type { HealthCheckEntry, HealthResponse } from './schema.js'
import { worstStatus, Status } from './states.js'
import { type AnswerDefinition, checkView, type Snapshot } from './views.js'

/** One ready-to-send answer of a view: built once per change, then served as is to every probe. */
export interface Answer {
  statusCode: number
  status: Status
  /**
   * The document, built on first use: a request that hides the details never needs it, so its
   * cost does not grow with the number of checks. Read it before the next change (the answer of
   * a later change is another one).
   */
  readonly body: HealthResponse
  /**
   * `body` serialized once, so that a request costs no serialization. A string, not a Buffer:
   * Node sends a string body in one chunk with the headers, a Buffer as a second one.
   */
  readonly payload: string
  /** The answer for callers denied the details: no `checks`, and an `output` naming no check. */
  brief: () => string
}

const MAX_OUTPUT_LENGTH = 1024

/** A view as an answer needs it: its base status, notes and codes. */
export interface AnswerShape extends AnswerDefinition {
  readonly codes: Readonly<Record<Status, number>>
}

/** The tally of a few checks, counted on the spot (a view's own is kept as readings arrive). */
export function tallyOf (runners: Iterable<CheckRunner>): Tally {
  let warn = 0
  let fail = 0
  for (const runner of runners) {
    const counted = runner.counted
    if (counted === Status.WARN) warn++
    else if (counted === Status.FAIL) fail++
  }
  return { warn, fail }
}

/**
 * What a view answers now, from the service's state, the tally of the checks it counts and
 * (for the details, on first use) the latest reading of each.
 */
export function buildAnswer (view: AnswerShape, snapshot: Snapshot, runners: readonly CheckRunner[], tally: Tally, options: ResolvedOptions): Answer {
  return new BuiltAnswer(view, snapshot, runners, tally, options)
}

/**
 * A class, not an object literal with getters: each such literal would get a hidden class of its
 * own (the getters are part of it), and the route's reads of every new answer would turn
 * megamorphic.
 */
class BuiltAnswer implements Answer {
  readonly statusCode: number
  readonly status: Status
  readonly #notes: string
  /** `Service state: ...` when the state alone does not pass. */
  readonly #state: string | undefined
  readonly #tally: Tally
  readonly #runners: readonly CheckRunner[]
  readonly #options: ResolvedOptions
  #body: HealthResponse | undefined
  #payload: string | undefined
  #brief: string | undefined

  constructor (view: AnswerShape, snapshot: Snapshot, runners: readonly CheckRunner[], tally: Tally, options: ResolvedOptions) {
    const base = view.baseStatus(snapshot)
    const { warn, fail } = tally
    const status = worstStatus(base, fail > 0 ? Status.FAIL : warn > 0 ? Status.WARN : Status.PASS)
    this.statusCode = view.codes[status]
    this.status = status
    this.#notes = view.notes(status, snapshot)
    this.#state = base === Status.PASS ? undefined : `Service state: ${snapshot.state}`
    // Copied: the view's own tally moves on with the next reading.
    this.#tally = { warn, fail }
    this.#runners = runners
    this.#options = options
  }

  get body (): HealthResponse {
    return (this.#body ??= detailedBody(this.status, this.#notes, this.#state, this.#runners, this.#options))
  }

  get payload (): string {
    return (this.#payload ??= JSON.stringify(this.body))
  }

  brief (): string {
    const { warn, fail } = this.#tally
    return (this.#brief ??= JSON.stringify(briefBody(this.status, this.#notes, [this.#state, counted(fail, 'failing'), counted(warn, 'warning')], this.#options)))
  }
}

/** `2 checks failing`; undefined for none. */
function counted (n: number, what: string): string | undefined {
  return n === 0 ? undefined : `${n} ${n === 1 ? 'check' : 'checks'} ${what}`
}

/** The document with the details: every check's entries, and an `output` naming the ones that do not pass. */
function detailedBody (status: Status, notes: string, state: string | undefined, runners: readonly CheckRunner[], options: ResolvedOptions): HealthResponse {
  const problems: string[] = state === undefined ? [] : [state]
  let checks: Record<string, HealthCheckEntry[]> | undefined
  for (const runner of runners) {
    const reading = runner.reading
    // A check with no reading yet is left out: a request waits for its first reading, so only
    // announcements (a state change before any request) could ever see it.
    if (reading === undefined) continue
    // The entries say what the latest reading said; the verdict, how the check counts (thresholds).
    const { entries, status: own } = reading
    ;(checks ??= {})[runner.name] = entries
    if (runner.counted !== Status.PASS) {
      const { held } = runner.verdict
      const said = entries.find((entry) => entry.output !== undefined)?.output
      const note = held === undefined ? said : [said, heldNote(own, held)].filter((text) => text !== undefined).join(', ')
      problems.push(note === undefined ? `${runner.name}: ${own}` : `${runner.name}: ${own} (${note})`)
    }
  }
  const output = status === Status.PASS ? undefined : problems.join('; ')
  return healthDocument(status, notes, output, checks, options)
}

/** A health+json document: keys in the draft's order, optional ones only when configured or meaningful. */
function healthDocument (
  status: Status, note: string, output: string | undefined, checks: HealthResponse['checks'], options: ResolvedOptions
): HealthResponse {
  const body: HealthResponse = { status }
  if (options.version !== undefined) body.version = options.version
  if (options.releaseId !== undefined) body.releaseId = options.releaseId
  body.notes = [note]
  if (output !== undefined) body.output = truncate(output, MAX_OUTPUT_LENGTH)
  if (checks !== undefined) body.checks = checks
  if (options.links !== undefined) body.links = options.links
  body.serviceId = options.serviceName
  if (options.description !== undefined) body.description = options.description
  return body
}

/**
 * What a request for a check that does not exist answers, with `checkView.missing.code`: a valid
 * document that fails and says so. Built per request (the name is the caller's); rare.
 */
export function missingCheckPayload (name: string, options: ResolvedOptions): string {
  const { status, notes, output } = checkView.missing
  return JSON.stringify(healthDocument(status, notes, output(name), undefined, options))
}

/** Why a reading does not count yet: `1 of 3 failing readings before it counts`. */
function heldNote (own: Status, { streak, threshold }: { streak: number, threshold: number }): string {
  return own === Status.FAIL
    ? `${streak} of ${threshold} failing readings before it counts`
    : `${streak} of ${threshold} passing readings before it counts again`
}

/** What is kept when details are hidden: status, code and identity, and how many checks warn or fail. */
function briefBody (status: Status, notes: string, problems: Array<string | undefined>, options: ResolvedOptions): HealthResponse {
  const said = problems.filter((problem) => problem !== undefined)
  const { version, releaseId, serviceName: serviceId, description } = options
  return { status, version, releaseId, notes: [notes], output: said.length === 0 ? undefined : said.join('; '), serviceId, description }
}
