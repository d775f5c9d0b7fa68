import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { type Answer, type AnswerShape, buildAnswer, tallyOf } from './answer.js'
import { CheckRegistry } from './engine/registry.js'
import type { CheckRunner } from './engine/runner.js'
import type { CheckFunction, CheckOptions, Reading } from './engine/types.js'
import { FST_HEALTH_INVALID_STATE } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { HealthHistory } from './history/schema.js'
import type { HealthCheckEntry, HealthResponse } from './schema.js'
import { isState, State, Status } from './states.js'
import { checkView, type ResolvedView } from './views.js'

/** What `GET /health` answers: the HTTP status code and the health+json document. */
export interface HealthReport {
  statusCode: number
  body: HealthResponse
}

export type ChangeListener = (current: Status, previous: Status, report: HealthReport) => void

/** A check run whose reading was recorded. */
export interface CheckRun {
  name: string
  /** The reading's own status (before thresholds). */
  status: Status
  durationMs: number
  /** How the check counts in the answers now (thresholds applied; a failing non-critical check: warn). */
  counted: Status
  /** How it counted before this reading; undefined for its first. */
  previous: Status | undefined
  /** The reading's entries, as the answers show them (frozen). */
  entries: readonly HealthCheckEntry[]
  /** When the reading arrived (Date.now()). */
  at: number
}

/** What changed the overall status: a check's reading or removal, or the service's state. */
export type StatusCause = { check: string } | { state: State }

/** A change of the overall status, and its cause. */
export interface StatusChange {
  /** When it changed (Date.now()). */
  at: number
  from: Status
  to: Status
  cause: StatusCause
}

/** The latest status of the service and of each check that has a reading, as the answers count them. */
export interface HealthSnapshot {
  status: Status
  checks: Array<{ name: string, status: Status }>
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
  /**
   * What the history keeps (the `history` option): `history(name)` a check's last readings and
   * status changes, `history()` the overall status's changes; undefined with `history: false`,
   * and for a name no check has.
   */
  history: HealthHistory
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
  /** The latest status of the service and of each check (thresholds applied), running nothing. */
  snapshot: () => HealthSnapshot
  /** Calls `listener` after every check run whose reading is recorded; returns the unsubscribe function. */
  onRun: (listener: (run: CheckRun) => void) => () => void
  /** Calls `listener` on every change of the overall status, with its cause; returns the unsubscribe function. */
  onStatus: (listener: (change: StatusChange) => void) => () => void
}

/** A value as an error message shows it; never throws (BigInt, cycles, symbols). */
function describeValue (value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Calls every listener; one that throws is logged and must not keep the others from hearing. */
function notify<L> (listeners: Set<L>, call: (listener: L) => void, log: FastifyBaseLogger, what: string): void {
  for (const listener of listeners) {
    try {
      call(listener)
    } catch (error) {
      log.error({ err: error }, `fastify-health: ${what} threw`)
    }
  }
}

/** Adds a listener to a set; returns the function that takes it out again. */
function subscribe<L> (listeners: Set<L>, listener: L, what: string): () => void {
  if (typeof listener !== 'function') throw new TypeError(`fastify-health: ${what} needs a function`)
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}

/** The controller of one service, and the lifecycle the plugin drives it with. */
export function createHealth (options: ResolvedOptions, log: FastifyBaseLogger, close: () => Promise<unknown>):
{ health: HealthController, lifecycle: HealthLifecycle } {
  const listeners = new Set<ChangeListener>()
  const runListeners = new Set<(run: CheckRun) => void>()
  const statusListeners = new Set<(change: StatusChange) => void>()
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

  const ran = (runner: CheckRunner, previous: Status | undefined, durationMs: number): void => {
    if (runListeners.size === 0) return
    const { status, entries } = runner.reading as Reading
    const run: CheckRun = { name: runner.name, status, durationMs, counted: runner.counted as Status, previous, entries, at: Date.now() }
    notify(runListeners, (listener) => listener(run), log, 'an onRun listener')
  }
  const checks = new CheckRegistry((check) => changed({ check }), log, options.views, ran)

  function answerOf (view: string): Answer {
    const cached = answers.get(view)
    if (cached !== undefined && cached.revision === revision) return cached.answer
    const answer = buildAnswer(views.get(view) as ResolvedView, { state, started }, checks.members(view), checks.tally(view), options)
    answers.set(view, { revision, answer })
    return answer
  }

  function checkAnswerOf (runner: CheckRunner): Answer {
    const cached = checkAnswers.get(runner)
    if (cached !== undefined && cached.revision === revision) return cached.answer
    const answer = buildAnswer(checkShape, { state, started }, [runner], tallyOf([runner]), options)
    checkAnswers.set(runner, { revision, answer })
    return answer
  }

  let status: Status = answerOf('health').status

  /**
   * Something an answer depends on changed: note it, and announce a new overall status. The new
   * status comes from the tallies; the document is built only when it is announced.
   */
  function changed (cause: StatusCause): void {
    revision++
    const current = answerOf('health')
    const previous = status
    if (current.status === previous) return
    status = current.status
    if (statusListeners.size > 0) {
      const change: StatusChange = { at: Date.now(), from: previous, to: status, cause }
      notify(statusListeners, (listener) => listener(change), log, 'an onStatus listener')
    }
    const { statusCode, body } = current
    const level = status === Status.PASS ? 'info' : 'warn'
    log[level]({ from: previous, to: status, output: body.output }, 'fastify-health: status changed')
    // A listener's mistake must not break the health endpoint or the other listeners.
    notify(listeners, (listener) => listener(status, previous, { statusCode, body: structuredClone(body) }), log, 'an onChange listener')
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
    changed({ state: next })
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
    // Set by the history when it is on (lib/mount.ts).
    history: () => undefined,
    onChange: (listener) => subscribe(listeners, listener, 'onChange'),
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
      const counted: HealthSnapshot['checks'] = []
      for (const runner of checks.all()) {
        const standing = runner.counted
        if (standing !== undefined) counted.push({ name: runner.name, status: standing })
      }
      return { status: answerOf('health').status, checks: counted }
    },
    onRun: (listener) => subscribe(runListeners, listener, 'onRun'),
    onStatus: (listener) => subscribe(statusListeners, listener, 'onStatus')
  }
  return { health, lifecycle }
}
