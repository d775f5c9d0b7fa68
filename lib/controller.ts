import type { FastifyBaseLogger } from 'fastify'
import { type Answer, buildAnswer } from './answer.js'
import { CheckRegistry } from './engine/registry.js'
import type { CheckFunction, CheckOptions } from './engine/types.js'
import { FST_HEALTH_INVALID_STATE } from './errors.js'
import { countsFor, evaluate, type View } from './evaluate.js'
import type { ResolvedOptions } from './options.js'
import type { HealthResponse } from './schema.js'
import { isState, State, Status } from './states.js'

/** What `GET /health` answers: the HTTP status code and the health+json document. */
export interface HealthReport {
  statusCode: number
  body: HealthResponse
}

export type ChangeListener = (current: Status, previous: Status, report: HealthReport) => void

/** Internal access to the prebuilt answers and the lifecycle, kept off the public surface. */
export const kAnswer = Symbol('fastify-health.answer')
export const kStart = Symbol('fastify-health.start')
export const kStop = Symbol('fastify-health.stop')
export const kClosing = Symbol('fastify-health.closing')
export const kChecks = Symbol('fastify-health.checks')

/** A value as an error message shows it; never throws (BigInt, cycles, symbols). */
function describeValue (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

const probeCodes = { pass: 200, warn: 200, fail: 503 } as const
const countsByView = {
  health: countsFor('health'), live: countsFor('live'), ready: countsFor('ready'), started: countsFor('started')
}

/**
 * The state of one service, its checks, and what its endpoints answer: `fastify.health`.
 * Methods are bound, so they can be passed around as callbacks.
 */
export class HealthController {
  readonly #options: ResolvedOptions
  readonly #log: FastifyBaseLogger
  readonly #close: () => Promise<unknown>
  readonly [kChecks]: CheckRegistry
  readonly #listeners = new Set<ChangeListener>()
  readonly #answers = new Map<View, { revision: number, answer: Answer }>()
  #state: State
  #started: boolean
  /** Bumped on every change an answer depends on: a cached answer of another revision is stale. */
  #revision = 0
  #status: Status
  #shutdown: Promise<void> | undefined
  /** Set once shutdown() or close() has begun: from then on the state stays Shutting down. */
  #closing = false

  constructor (options: ResolvedOptions, log: FastifyBaseLogger, close: () => Promise<unknown>) {
    this.#options = options
    this.#log = log
    this.#close = close
    this.#state = options.initialState
    this.#started = this.#state === State.WORK
    this[kChecks] = new CheckRegistry(() => this.#changed(), log)
    this.#status = this.#answer('health').body.status
  }

  /** The current state. */
  get state (): State {
    return this.#state
  }

  /** Moves to `state`; anything that is not a State value throws FST_HEALTH_INVALID_STATE. */
  setState = (state: State): void => {
    if (!isState(state)) throw new FST_HEALTH_INVALID_STATE(describeValue(state))
    if (state === this.#state) return
    if (this.#closing) {
      // A late warm-up timer or a reconnect handler must not put a draining service back in
      // rotation: readiness would say 200 while the instance is about to close.
      this.#log.warn({ state }, 'fastify-health: the service is shutting down; state change ignored')
      return
    }
    const from = this.#state
    this.#state = state
    if (state === State.WORK) this.#started = true
    this.#log.info({ from, to: state }, 'fastify-health: state changed')
    this.#changed()
  }

  setStateWarmUp = (): void => this.setState(State.WARMUP)
  setStateWorking = (): void => this.setState(State.WORK)
  setStateShutDown = (): void => this.setState(State.SHUTDOWN)
  setStateNoInfo = (): void => this.setState(State.NOINFO)

  /**
   * Adds a dependency check under the draft's `componentName:measurementName` key.
   * A bad name, a duplicate or a bad option throws a FST_HEALTH_* error.
   */
  addCheck = (name: string, check: CheckFunction, options?: CheckOptions): void => {
    // No announcement: nothing changes until the check's first reading arrives.
    this[kChecks].add(name, check, options)
  }

  /** Calls `listener` on every change of the overall status; returns the unsubscribe function. */
  onChange = (listener: ChangeListener): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('fastify-health: onChange needs a function')
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Exactly what `GET /health` would answer now (running the checks that are due). */
  report = async (): Promise<HealthReport> => {
    const { statusCode, body } = await this[kAnswer]('health')
    return { statusCode, body: structuredClone(body) }
  }

  /**
   * Drains and stops the service: Shutting down at once (readiness answers 503), every route
   * served as usual for `shutdownDelay` ms so that load balancers take it out of rotation, then
   * the instance closes. Resolves when it is closed; a second call returns the same promise.
   */
  shutdown = (): Promise<void> => {
    this.#shutdown ??= (async () => {
      this[kClosing]()
      const delay = this.#options.shutdownDelay
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      await this.#close()
    })()
    return this.#shutdown
  }

  /** The answer of a view, once the checks it counts are fresh enough. */
  [kAnswer] (view: View): Answer | Promise<Answer> {
    const wait = this[kChecks].refresh(countsByView[view])
    return wait === undefined ? this.#answer(view) : wait.then(() => this.#answer(view))
  }

  /** Closing has begun: Shutting down, for good. */
  [kClosing] (): void {
    this.setStateShutDown()
    this.#closing = true
  }

  [kStart] (): void {
    this[kChecks].start()
  }

  [kStop] (): void {
    this[kChecks].stop()
  }

  #answer (view: View): Answer {
    const cached = this.#answers.get(view)
    if (cached !== undefined && cached.revision === this.#revision) return cached.answer
    const evaluation = evaluate(view, { state: this.#state, started: this.#started, runners: this[kChecks].runners() })
    const codes = view === 'health' ? this.#options.statusCodes : probeCodes
    const answer = buildAnswer(this.#options, evaluation, codes[evaluation.status])
    this.#answers.set(view, { revision: this.#revision, answer })
    return answer
  }

  /** Something an answer depends on changed: note it, and announce a new overall status. */
  #changed (): void {
    this.#revision++
    const { statusCode, body } = this.#answer('health')
    const previous = this.#status
    if (body.status === previous) return
    this.#status = body.status
    const level = body.status === Status.PASS ? 'info' : 'warn'
    this.#log[level]({ from: previous, to: body.status, output: body.output }, 'fastify-health: status changed')
    for (const listener of this.#listeners) {
      try {
        listener(body.status, previous, { statusCode, body: structuredClone(body) })
      } catch (error) {
        // A listener's mistake must not break the health endpoint or the other listeners.
        this.#log.error({ err: error }, 'fastify-health: an onChange listener threw')
      }
    }
  }
}
