import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { type Answer, type AnswerShape, buildAnswer } from './answer.js'
import { CheckRegistry } from './engine/registry.js'
import type { CheckRunner } from './engine/runner.js'
import type { CheckFunction, CheckOptions } from './engine/types.js'
import { FST_HEALTH_INVALID_STATE } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { HealthResponse } from './schema.js'
import { isState, State, Status } from './states.js'
import { checkView, type ResolvedView } from './views.js'

/** What `GET /health` answers: the HTTP status code and the health+json document. */
export interface HealthReport {
  statusCode: number
  body: HealthResponse
}

export type ChangeListener = (current: Status, previous: Status, report: HealthReport) => void

/** One settled check run, as `HealthLifecycle.onRun` passes it. */
export interface CheckRun {
  name: string
  /** The reading's own status (before thresholds). */
  status: Status
  durationMs: number
}

/**
 * The state of one service, its checks, and what its endpoints answer: `fastify.health`.
 * Methods are bound, so they can be passed around as callbacks.
 */
export interface HealthController {
  /** The current state. */
  readonly state: State
  /** Moves to `state`; anything that is not a State value throws FST_HEALTH_INVALID_STATE. */
  setState: (state: State) => void
  setStateWarmUp: () => void
  setStateWorking: () => void
  setStateShutDown: () => void
  setStateNoInfo: () => void
  /**
   * Adds a dependency check under the draft's `componentName:measurementName` key.
   * A bad name, a duplicate or a bad option throws a FST_HEALTH_* error.
   */
  addCheck: (name: string, check: CheckFunction, options?: CheckOptions) => void
  /**
   * Takes the check named `name` out at run time: its background loop stops, a run in flight is
   * aborted (its signal) and its result ignored, and the answers no longer show it; a change of
   * the overall status is logged and passed to `onChange` listeners. Returns `true` when a check
   * was removed, `false` (changing nothing) when none has that name. The name may be added again.
   */
  removeCheck: (name: string) => boolean
  /** Calls `listener` on every change of the overall status; returns the unsubscribe function. */
  onChange: (listener: ChangeListener) => () => void
  /** Exactly what `GET /health` would answer now (running the checks that are due). */
  report: () => Promise<HealthReport>
  /**
   * Drains and stops the service: Shutting down at once (readiness answers 503), every route
   * served as usual for `shutdownDelay` ms so that load balancers take it out of rotation, then
   * the instance closes. Resolves when it is closed; a second call returns the same promise.
   */
  shutdown: () => Promise<void>
}

/** What the plugin itself drives, kept off `fastify.health`. */
export interface HealthLifecycle {
  /** The answer of a view (by name), once the checks it counts are fresh enough. */
  answer: (view: string) => Answer | Promise<Answer>
  /**
   * The answer of the check named `name` alone, once its reading is fresh enough; undefined when
   * no check has that name (or it was removed while the request waited).
   */
  checkAnswer: (name: string) => Answer | undefined | Promise<Answer | undefined>
  /**
   * The instance is ready, every check added: a group of the user's that counts no check throws
   * FST_HEALTH_EMPTY_GROUP; a selector that picks no check is logged as a warning.
   */
  verify: () => void
  /** The instance is ready: background checks start. */
  start: () => void
  /** Closing has begun: Shutting down, for good. */
  closing: () => void
  /** The instance has closed: checks stop. */
  stop: () => void
  /** The checks, for registering the ones the options name. */
  checks: CheckRegistry
  /** The latest status of the service and of each check (as counted, thresholds applied), running nothing. */
  snapshot: () => { status: Status, checks: Array<{ name: string, status: Status }> }
  /** Calls listener after every check run settles (its reading recorded): name, the reading's own status, duration in ms. Returns the unsubscribe function. */
  onRun: (listener: (run: CheckRun) => void) => () => void
}

/** A value as an error message shows it; never throws (BigInt, cycles, symbols). */
function describeValue (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** The controller of one service, and the lifecycle the plugin drives it with. */
export function createHealth (options: ResolvedOptions, log: FastifyBaseLogger, close: () => Promise<unknown>):
{ health: HealthController, lifecycle: HealthLifecycle } {
  const listeners = new Set<ChangeListener>()
  const answers = new Map<string, { revision: number, answer: Answer }>()
  const views = new Map<string, ResolvedView>(options.views.map((view) => [view.name, view]))
  /** The answer of each check on its own, cached like a view's; forgotten with the check. */
  const checkAnswers = new WeakMap<CheckRunner, { revision: number, answer: Answer }>()
  const checkShape: AnswerShape = { baseStatus: checkView.baseStatus, notes: checkView.notes, codes: options.statusCodes }
  let state: State = options.initialState
  let started = state === State.WORK
  /** Bumped on every change an answer depends on: a cached answer of another revision is stale. */
  let revision = 0
  let shutdownPromise: Promise<void> | undefined
  /** Set once shutdown() or close() has begun: from then on the state stays Shutting down. */
  let closing = false

  const runListeners = new Set<(run: CheckRun) => void>()
  const ran = (name: string, status: Status, durationMs: number): void => {
    for (const listener of runListeners) {
      try {
        listener({ name, status, durationMs })
      } catch (error) {
        // As for onChange: a listener's mistake must not break a check run or the other listeners.
        log.error({ err: error }, 'fastify-health: an onRun listener threw')
      }
    }
  }
  const checks = new CheckRegistry(() => changed(), log, options.views, ran)

  function answerOf (view: string): Answer {
    const cached = answers.get(view)
    if (cached !== undefined && cached.revision === revision) return cached.answer
    const answer = buildAnswer(views.get(view) as ResolvedView, { state, started }, checks.members(view), options)
    answers.set(view, { revision, answer })
    return answer
  }

  function checkAnswerOf (runner: CheckRunner): Answer {
    const cached = checkAnswers.get(runner)
    if (cached !== undefined && cached.revision === revision) return cached.answer
    const answer = buildAnswer(checkShape, { state, started }, [runner], options)
    checkAnswers.set(runner, { revision, answer })
    return answer
  }

  let status: Status = answerOf('health').body.status

  /** Something an answer depends on changed: note it, and announce a new overall status. */
  function changed (): void {
    revision++
    const { statusCode, body } = answerOf('health')
    const previous = status
    if (body.status === previous) return
    status = body.status
    const level = body.status === Status.PASS ? 'info' : 'warn'
    log[level]({ from: previous, to: body.status, output: body.output }, 'fastify-health: status changed')
    for (const listener of listeners) {
      try {
        listener(body.status, previous, { statusCode, body: structuredClone(body) })
      } catch (error) {
        // A listener's mistake must not break the health endpoint or the other listeners.
        log.error({ err: error }, 'fastify-health: an onChange listener threw')
      }
    }
  }

  const answer = (view: string): Answer | Promise<Answer> => {
    const wait = checks.refresh(view)
    return wait === undefined ? answerOf(view) : wait.then(() => answerOf(view))
  }

  const checkAnswer = (name: string): Answer | undefined | Promise<Answer | undefined> => {
    const runner = checks.get(name)
    if (runner === undefined) return undefined
    const wait = runner.refresh(performance.now())
    // Removed while the request waited: as if it had never been there.
    return wait === undefined ? checkAnswerOf(runner) : wait.then(() => checks.get(name) === runner ? checkAnswerOf(runner) : undefined)
  }

  const setState = (next: State): void => {
    if (!isState(next)) throw new FST_HEALTH_INVALID_STATE(describeValue(next))
    if (next === state) return
    if (closing) {
      // A late warm-up timer or a reconnect handler must not put a draining service back in
      // rotation: readiness would say 200 while the instance is about to close.
      log.warn({ state: next }, 'fastify-health: the service is shutting down; state change ignored')
      return
    }
    const from = state
    state = next
    if (next === State.WORK) started = true
    log.info({ from, to: next }, 'fastify-health: state changed')
    changed()
  }

  const beginClosing = (): void => {
    setState(State.SHUTDOWN)
    closing = true
  }

  const health: HealthController = {
    get state () { return state },
    setState,
    setStateWarmUp: () => setState(State.WARMUP),
    setStateWorking: () => setState(State.WORK),
    setStateShutDown: () => setState(State.SHUTDOWN),
    setStateNoInfo: () => setState(State.NOINFO),
    // No announcement: nothing changes until the check's first reading arrives.
    addCheck: (name, check, checkOptions) => checks.add(name, check, checkOptions),
    removeCheck: (name) => checks.remove(name),
    onChange: (listener) => {
      if (typeof listener !== 'function') throw new TypeError('fastify-health: onChange needs a function')
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    report: async () => {
      const { statusCode, body } = await answer('health')
      return { statusCode, body: structuredClone(body) }
    },
    shutdown: () => {
      shutdownPromise ??= (async () => {
        beginClosing()
        const delay = options.shutdownDelay
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
        await close()
      })()
      return shutdownPromise
    }
  }

  const lifecycle: HealthLifecycle = {
    answer,
    checkAnswer,
    verify: () => checks.verify(),
    start: () => checks.start(),
    closing: beginClosing,
    stop: () => checks.stop(),
    checks,
    snapshot: () => {
      const counted: Array<{ name: string, status: Status }> = []
      // Every check counts for the health document; one with no reading yet is left out.
      for (const runner of checks.members('health')) {
        if (runner.reading === undefined) continue
        const { status: verdict } = runner.verdict
        // As lib/answer.ts counts it: a failing check that is not critical counts as warn.
        counted.push({ name: runner.name, status: verdict === Status.FAIL && !runner.settings.critical ? Status.WARN : verdict })
      }
      return { status: answerOf('health').body.status, checks: counted }
    },
    onRun: (listener) => {
      runListeners.add(listener)
      return () => { runListeners.delete(listener) }
    }
  }
  return { health, lifecycle }
}
