import type { ResolvedOptions } from './options.js'
import type { HealthResponse } from './schema.js'
import { type State, stateStatus, statusNotes, Status } from './states.js'

/** One ready-to-send answer: built once per change, then served as is to every probe. */
export interface Answer {
  statusCode: number
  body: HealthResponse
  /** `body` serialized once, so that a request costs no serialization. */
  payload: Buffer
}

export function buildAnswer (options: ResolvedOptions, state: State): Answer {
  const status = stateStatus[state]
  // Keys in the draft's order; optional ones only when configured or meaningful.
  const body: HealthResponse = { status }
  if (options.version !== undefined) body.version = options.version
  if (options.releaseId !== undefined) body.releaseId = options.releaseId
  body.notes = [statusNotes[status]]
  // The draft asks for extra information on warn and fail: say which state caused it.
  if (status !== Status.PASS) body.output = `Service state: ${state}`
  if (options.links !== undefined) body.links = options.links
  body.serviceId = options.serviceName
  if (options.description !== undefined) body.description = options.description
  return { statusCode: options.statusCodes[status], body, payload: Buffer.from(JSON.stringify(body)) }
}
