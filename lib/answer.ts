import type { Evaluation } from './evaluate.js'
import type { ResolvedOptions } from './options.js'
import type { HealthResponse } from './schema.js'

/** One ready-to-send answer: built once per change, then served as is to every probe. */
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
  /** The answer for callers denied the details (no `checks`, no `output`); built on first use. */
  brief: () => string
}

type Identity = Pick<ResolvedOptions, 'serviceName' | 'version' | 'releaseId' | 'description' | 'links'>

export function buildAnswer (identity: Identity, evaluation: Evaluation, statusCode: number): Answer {
  // Keys in the draft's order; optional ones only when configured or meaningful.
  const body: HealthResponse = { status: evaluation.status }
  if (identity.version !== undefined) body.version = identity.version
  if (identity.releaseId !== undefined) body.releaseId = identity.releaseId
  body.notes = evaluation.notes
  if (evaluation.output !== undefined) body.output = evaluation.output
  if (evaluation.checks !== undefined) body.checks = evaluation.checks
  if (identity.links !== undefined) body.links = identity.links
  body.serviceId = identity.serviceName
  if (identity.description !== undefined) body.description = identity.description

  let payload: string | undefined
  let brief: string | undefined
  return {
    statusCode,
    body,
    get payload () { return (payload ??= JSON.stringify(body)) },
    brief: () => (brief ??= JSON.stringify(briefBody(body)))
  }
}

/** What is kept when details are hidden: status, code and identity, never checks or output. */
function briefBody (body: HealthResponse): HealthResponse {
  const { status, version, releaseId, notes, serviceId, description } = body
  return { status, version, releaseId, notes, serviceId, description }
}
