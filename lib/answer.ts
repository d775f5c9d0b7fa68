import type { CheckRunner } from './engine/runner.js'
import { truncate } from './engine/normalize.js'
import type { ResolvedOptions } from './options.js'
import type { HealthCheckEntry, HealthResponse } from './schema.js'
import { worstStatus, Status } from './states.js'
import { type AnswerDefinition, checkView, type Snapshot } from './views.js'

/** One ready-to-send answer of a view: built once per change, then served as is to every probe. */
export interface Answer {
  statusCode: number
  body: HealthResponse
  /**
   * `body` serialized once, so that a request costs no serialization. A string, not a Buffer:
   * Node sends a string body in one chunk with the headers, a Buffer as a second one. Built on
   * first use: checks settling one after another rebuild the answer each time, and only the
   * ones a request reads need serializing.
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

/** What a view answers now, from the service's state and the latest reading of each check it counts. */
export function buildAnswer (view: AnswerShape, snapshot: Snapshot, runners: Iterable<CheckRunner>, options: ResolvedOptions): Answer {
  const base = view.baseStatus(snapshot)
  let status = base
  const problems: string[] = base === Status.PASS ? [] : [`Service state: ${snapshot.state}`]
  const brief = [...problems]
  const failing = { warn: 0, fail: 0 }
  let checks: Record<string, HealthCheckEntry[]> | undefined
  for (const runner of runners) {
    const reading = runner.reading
    // A check with no reading yet is left out: a request waits for its first reading, so only
    // announcements (a state change before any request) could ever see it.
    if (reading === undefined) continue
    // The entries say what the latest reading said; the verdict, how the check counts (thresholds).
    const { entries, status: own } = reading
    const { status: verdict, held } = runner.verdict
    // A failing check that is not critical lowers the answer to warn, never to fail.
    const counted = verdict === Status.FAIL && !runner.settings.critical ? Status.WARN : verdict
    status = worstStatus(status, counted)
    ;(checks ??= {})[runner.name] = entries
    if (counted !== Status.PASS) {
      failing[counted]++
      const said = entries.find((entry) => entry.output !== undefined)?.output
      const notes = held === undefined ? said : [said, heldNote(own, held)].filter((note) => note !== undefined).join(', ')
      problems.push(notes === undefined ? `${runner.name}: ${own}` : `${runner.name}: ${own} (${notes})`)
    }
  }
  for (const level of ['fail', 'warn'] as const) {
    const n = failing[level]
    if (n > 0) brief.push(`${n} ${n === 1 ? 'check' : 'checks'} ${level === 'fail' ? 'failing' : 'warning'}`)
  }

  const output = status === Status.PASS ? undefined : problems.join('; ')
  const body = healthDocument(status, view.notes(status, snapshot), output, checks, options)
  let payload: string | undefined
  let briefPayload: string | undefined
  return {
    statusCode: view.codes[status],
    body,
    get payload () { return (payload ??= JSON.stringify(body)) },
    brief: () => (briefPayload ??= JSON.stringify(briefBody(body, brief)))
  }
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
function briefBody (body: HealthResponse, brief: string[]): HealthResponse {
  const { status, version, releaseId, notes, serviceId, description } = body
  const output = brief.length === 0 ? undefined : brief.join('; ')
  return { status, version, releaseId, notes, output, serviceId, description }
}
