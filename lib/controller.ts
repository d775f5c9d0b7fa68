import type { FastifyBaseLogger } from 'fastify'
import { type Answer, buildAnswer } from './answer.js'
import { FST_HEALTH_INVALID_STATE } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { HealthResponse } from './schema.js'
import { isState, State } from './states.js'

/** What `GET /health` answers: the HTTP status code and the health+json document. */
export interface HealthReport {
  statusCode: number
  body: HealthResponse
}

/** Internal access to the prebuilt answer, kept off the public surface. */
export const kCurrentAnswer = Symbol('fastify-health.currentAnswer')

/**
 * The state of one service and what its health endpoint answers for it: `fastify.health`.
 * Methods are bound, so they can be passed around as callbacks.
 */
export class HealthController {
  readonly #options: ResolvedOptions
  readonly #log: FastifyBaseLogger
  #state: State
  #answer: Answer

  constructor (options: ResolvedOptions, log: FastifyBaseLogger) {
    this.#options = options
    this.#log = log
    this.#state = options.initialState
    this.#answer = buildAnswer(options, this.#state)
  }

  /** The current state. */
  get state (): State {
    return this.#state
  }

  /** Moves to `state`; anything that is not a State value throws FST_HEALTH_INVALID_STATE. */
  setState = (state: State): void => {
    if (!isState(state)) throw new FST_HEALTH_INVALID_STATE(JSON.stringify(state) ?? String(state))
    if (state === this.#state) return
    const from = this.#state
    this.#state = state
    this.#answer = buildAnswer(this.#options, state)
    this.#log.info({ from, to: state }, 'fastify-health: state changed')
  }

  setStateWarmUp = (): void => this.setState(State.WARMUP)
  setStateWorking = (): void => this.setState(State.WORK)
  setStateShutDown = (): void => this.setState(State.SHUTDOWN)
  setStateNoInfo = (): void => this.setState(State.NOINFO)

  /** Exactly what `GET /health` would answer now. */
  report = async (): Promise<HealthReport> => {
    const { statusCode, body } = this[kCurrentAnswer]()
    return { statusCode, body: structuredClone(body) }
  }

  [kCurrentAnswer] (): Answer {
    return this.#answer
  }
}
